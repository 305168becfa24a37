"""The heuristic interviewer: a deterministic question flow from the bank in config/questions.toml.

It answers when the LLM cannot (no key, breaker open, bad output). Given the interview's role
and difficulty and the conversation so far, ``HeuristicInterviewer.next_turn`` returns the next
interviewer turn:

1. after a closing turn, the closing again;
2. a follow-up when the candidate's last answer to a bank question is short, hedging or has no
   specifics (see ``assess_answer``), up to ``max_follow_ups`` per question;
3. otherwise the next unasked question of the plan (warm-up, core, wrap-up; see the bank file);
4. a closing turn when the plan is exhausted or ``max_questions`` main questions were asked.

What was asked is read from each interviewer message's metadata (``question_id`` and ``kind``,
at the top level or under ``meta``/``metadata``) or, failing that, by finding a bank question's
or follow-up's text inside the message. Same inputs, same output: no randomness, no clock.
"""
from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from core.config_files import config_path

# Shipped as package data (config/ is installed as `interviewminds_config`), so an installed
# wheel finds it from any working directory.
DEFAULT_BANK_PATH = config_path(None, "questions.toml")
DIFFICULTIES = ("easy", "medium", "hard")
STAGES = ("warmup", "core", "wrapup")
FALLBACK_ROLE = "general"
INTERVIEWER_ROLES = frozenset({"assistant", "interviewer", "ai"})
CANDIDATE_ROLES = frozenset({"user", "candidate"})

# Said before a follow-up, by the first reason the answer was judged vague.
FOLLOW_UP_PREFIX = {
    "short": "Could you expand on that a little?",
    "hedging": "Let's make that concrete.",
    "no_specifics": "Could you be more specific?",
}


class BankError(ValueError):
    """The question bank is missing, unreadable or invalid; the message names the entry."""


@dataclass(frozen=True)
class Question:
    """One bank question."""

    id: str
    text: str
    competency: str
    follow_ups: tuple[str, ...]
    roles: frozenset[str]
    difficulties: frozenset[str]
    stage: str = "core"
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Heuristics:
    """Thresholds and vocabularies for judging answers."""

    min_words: int = 12
    detail_words: int = 40
    hedges: tuple[str, ...] = ()
    technical_terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Turn:
    """An interviewer turn. ``kind`` is "question", "follow_up" or "closing"."""

    text: str
    question_id: str | None
    kind: str
    competency: str | None

    @property
    def metadata(self) -> dict[str, Any]:
        """What to store with the message so later turns know what was asked."""
        return {"question_id": self.question_id, "kind": self.kind, "competency": self.competency}


@dataclass(frozen=True)
class AnswerAssessment:
    """Why an answer is (or is not) vague; ``reasons`` in order short, hedging, no_specifics."""

    word_count: int
    hedge_count: int
    has_specifics: bool
    reasons: tuple[str, ...] = field(default=())

    @property
    def vague(self) -> bool:
        return bool(self.reasons)


@dataclass(frozen=True)
class QuestionBank:
    """A validated bank. Build with ``load_bank(path)`` or ``QuestionBank.from_dict(data)``."""

    questions: tuple[Question, ...]
    roles: tuple[tuple[str, tuple[str, ...]], ...]  # (name, aliases) in declaration order
    max_questions: int
    max_follow_ups: int
    opening: str
    closing: str
    acknowledgement: str
    heuristics: Heuristics

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<bank>") -> "QuestionBank":
        """Validate parsed TOML; raises ``BankError`` naming ``source`` and the bad entry."""
        return _parse_bank(data, source)

    # -- queries ----------------------------------------------------------------------------------
    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.roles)

    def get(self, question_id: str) -> Question:
        """The question with this id (KeyError if absent)."""
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def resolve_role(self, role: str) -> str:
        """Map a free-text role ("Senior Backend Engineer") to a bank role (see the bank file)."""
        text = _normalise(role)
        for name, _ in self.roles:
            if _contains_phrase(text, name):
                return name
        best, best_len = FALLBACK_ROLE, 0
        for name, aliases in self.roles:
            for alias in aliases:
                if len(alias) > best_len and _contains_phrase(text, alias):
                    best, best_len = name, len(alias)
        return best

    def plan(self, role: str, difficulty: str) -> tuple[Question, ...]:
        """The ordered main questions for a role and difficulty, at most ``max_questions``."""
        difficulty = _check_difficulty(difficulty)
        bank_role = self.resolve_role(role)
        staged = {stage: [] for stage in STAGES}
        for question in self.questions:
            if difficulty in question.difficulties and ("*" in question.roles or bank_role in question.roles):
                staged[question.stage].append(question)
        room_for_core = max(0, self.max_questions - len(staged["warmup"]) - len(staged["wrapup"]))
        ordered = staged["warmup"] + staged["core"][:room_for_core] + staged["wrapup"]
        return tuple(ordered[: self.max_questions])


def load_bank(path: str | Path | None = None) -> QuestionBank:
    """Read and validate a question bank TOML file (default: config/questions.toml)."""
    bank_path = Path(path) if path is not None else DEFAULT_BANK_PATH
    try:
        with open(bank_path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as err:
        raise BankError(f"question bank {bank_path}: file not found") from err
    except tomllib.TOMLDecodeError as err:
        raise BankError(f"question bank {bank_path}: invalid TOML: {err}") from err
    return QuestionBank.from_dict(data, source=str(bank_path))


# -- answer assessment --------------------------------------------------------------------------------
_WORD = re.compile(r"[a-z0-9][a-z0-9'+#./_-]*")
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,}\b")
_CODE_LIKE = re.compile(r"\w\(\)|\w_\w|\w\.\w+\(|[{}\[\]=<>]")


def assess_answer(text: str, bank: QuestionBank, question: Question | None = None) -> AnswerAssessment:
    """Judge a candidate answer: short (fewer than ``min_words`` words), hedging (a hedge for
    every 25 words or fewer), or without specifics (no number, acronym, code-like token, bank
    technical term or question keyword) while under ``detail_words`` words."""
    h = bank.heuristics
    normal = _normalise(text)
    word_count = len(_WORD.findall(normal))
    hedge_count = sum(_count_phrase(normal, hedge) for hedge in h.hedges)
    terms = tuple(h.technical_terms) + (question.keywords if question else ())
    has_specifics = bool(
        re.search(r"\d", text)
        or _ACRONYM.search(text)
        or _CODE_LIKE.search(text)
        or any(_contains_phrase(normal, term) for term in terms)
    )
    reasons = []
    if word_count < h.min_words:
        reasons.append("short")
    if hedge_count and hedge_count * 25 >= word_count:
        reasons.append("hedging")
    if not has_specifics and word_count < h.detail_words:
        reasons.append("no_specifics")
    return AnswerAssessment(word_count, hedge_count, has_specifics, tuple(reasons))


# -- the interviewer -------------------------------------------------------------------------------------
@dataclass
class _State:
    asked: list[str] = field(default_factory=list)  # bank question ids asked as main questions
    unknown_questions: int = 0  # interviewer questions not from the bank (e.g. from the LLM)
    follow_ups: dict[str, int] = field(default_factory=dict)
    current: str | None = None  # the bank question the latest interviewer turn was about
    closed: bool = False
    spoke: bool = False  # whether the interviewer has said anything yet
    last_answer: str | None = None  # the candidate's text when the history ends with it


class HeuristicInterviewer:
    """Deterministic interviewer over a ``QuestionBank`` (see module docstring for the rules)."""

    def __init__(self, bank: QuestionBank) -> None:
        self.bank = bank
        # Longest texts first, so a follow-up that quotes a question still matches itself.
        index = [(_normalise(q.text), q.id, "question") for q in bank.questions]
        index += [(_normalise(f), q.id, "follow_up") for q in bank.questions for f in q.follow_ups]
        self._text_index = sorted(index, key=lambda item: -len(item[0]))
        self._closing = _normalise(bank.closing)

    def next_turn(self, role: str, difficulty: str, history: Sequence[Mapping[str, Any]]) -> Turn:
        """The next interviewer turn for this interview. ``history`` is [{role, text, ...}],
        oldest first, with roles assistant|interviewer and user|candidate (system is ignored)."""
        plan = self.bank.plan(role, difficulty)
        state = self._read_history(history)
        if state.closed:
            return self._closing_turn()

        if state.last_answer is not None and state.current is not None:
            question = self.bank.get(state.current)
            done = state.follow_ups.get(question.id, 0)
            if done < min(self.bank.max_follow_ups, len(question.follow_ups)):
                assessment = assess_answer(state.last_answer, self.bank, question)
                if assessment.vague:
                    prefix = FOLLOW_UP_PREFIX[assessment.reasons[0]]
                    return Turn(f"{prefix} {question.follow_ups[done]}", question.id, "follow_up", question.competency)

        asked_total = len(state.asked) + state.unknown_questions
        unasked = [q for q in plan if q.id not in state.asked]
        remaining = self.bank.max_questions - asked_total
        if remaining <= 0 or not unasked:
            return self._closing_turn()
        wrapups = [q for q in unasked if q.stage == "wrapup"]
        question = wrapups[0] if 0 < remaining <= len(wrapups) else unasked[0]
        if not state.spoke:
            lead = self.bank.opening
        elif state.last_answer is not None:
            lead = self.bank.acknowledgement
        else:
            lead = ""
        text = f"{lead} {question.text}".strip()
        return Turn(text, question.id, "question", question.competency)

    def _closing_turn(self) -> Turn:
        return Turn(self.bank.closing, None, "closing", None)

    def _read_history(self, history: Sequence[Mapping[str, Any]]) -> _State:
        state = _State()
        for position, item in enumerate(history):
            if not isinstance(item, Mapping):
                raise ValueError(f"history[{position}] must be a mapping with role and text")
            role = item.get("role")
            text = item.get("text", item.get("content"))
            if not isinstance(text, str):
                raise ValueError(f"history[{position}].text must be a string")
            if role == "system":
                continue
            if role in CANDIDATE_ROLES:
                state.last_answer = text
                continue
            if role not in INTERVIEWER_ROLES:
                raise ValueError(f"history[{position}].role must be assistant/interviewer or user/candidate, got {role!r}")
            state.spoke = True
            state.last_answer = None
            question_id, kind = self._identify(item, text)
            if kind == "closing":
                state.closed = True
            elif kind == "follow_up" and question_id is not None:
                state.follow_ups[question_id] = state.follow_ups.get(question_id, 0) + 1
            elif kind == "question" and question_id is not None:
                if question_id not in state.asked:
                    state.asked.append(question_id)
            elif kind == "question":
                state.unknown_questions += 1
            state.current = question_id
        return state

    def _identify(self, item: Mapping[str, Any], text: str) -> tuple[str | None, str]:
        """(question_id, kind) of an interviewer message, from metadata or by its text."""
        meta: Mapping[str, Any] = item
        for key in ("meta", "metadata"):
            if isinstance(item.get(key), Mapping):
                meta = item[key]
                break
        question_id, kind = meta.get("question_id"), meta.get("kind")
        if kind in ("question", "follow_up", "closing"):
            known = isinstance(question_id, str) and any(q.id == question_id for q in self.bank.questions)
            return (question_id if known else None), kind
        normal = _normalise(text)
        if self._closing and self._closing in normal:
            return None, "closing"
        for needle, qid, found_kind in self._text_index:
            if needle and needle in normal:
                return qid, found_kind
        return None, "question"


# -- parsing and validation ------------------------------------------------------------------------------
def _parse_bank(data: Mapping[str, Any], source: str) -> QuestionBank:
    def fail(where: str, problem: str) -> BankError:
        return BankError(f"question bank {source}: {where}: {problem}")

    interview = _table(data, "interview", source)
    max_questions = _int(interview, "max_questions", 6, 1, "[interview]", fail)
    max_follow_ups = _int(interview, "max_follow_ups", 1, 0, "[interview]", fail)
    opening = _text(interview, "opening", "[interview]", fail, default="")
    closing = _text(interview, "closing", "[interview]", fail)
    acknowledgement = _text(interview, "acknowledgement", "[interview]", fail, default="")

    heur = _table(data, "heuristics", source, required=False)
    heuristics = Heuristics(
        min_words=_int(heur, "min_words", 12, 1, "[heuristics]", fail),
        detail_words=_int(heur, "detail_words", 40, 1, "[heuristics]", fail),
        hedges=tuple(w.lower() for w in _strings(heur, "hedges", "[heuristics]", fail, required=False)),
        technical_terms=tuple(
            w.lower() for w in _strings(heur, "technical_terms", "[heuristics]", fail, required=False)
        ),
    )

    roles_table = _table(data, "roles", source)
    roles = []
    for name, spec in roles_table.items():
        if not isinstance(spec, Mapping):
            raise fail(f"[roles.{name}]", "must be a table")
        roles.append((name.lower(), tuple(a.lower() for a in _strings(spec, "aliases", f"[roles.{name}]", fail, required=False))))
    role_names = {name for name, _ in roles}
    if FALLBACK_ROLE not in role_names:
        raise fail("[roles]", f"the fallback role {FALLBACK_ROLE!r} must be declared")

    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        raise fail("[[questions]]", "at least one question is required")
    questions, seen = [], set()
    for position, raw in enumerate(raw_questions):
        where = f"questions[{position}]"
        if not isinstance(raw, Mapping):
            raise fail(where, "must be a table")
        qid = _text(raw, "id", where, fail)
        where = f"question {qid!r}"
        if qid in seen:
            raise fail(where, "duplicate id")
        seen.add(qid)
        unknown = set(raw) - {"id", "text", "competency", "follow_ups", "roles", "difficulties", "stage", "keywords"}
        if unknown:
            raise fail(where, f"unknown keys {sorted(unknown)}")
        q_roles = _strings(raw, "roles", where, fail)
        bad_roles = [r for r in q_roles if r != "*" and r not in role_names]
        if bad_roles:
            raise fail(where, f"unknown roles {bad_roles}; declared roles are {sorted(role_names)} or '*'")
        q_difficulties = _strings(raw, "difficulties", where, fail)
        bad_difficulties = [d for d in q_difficulties if d not in DIFFICULTIES]
        if bad_difficulties:
            raise fail(where, f"unknown difficulties {bad_difficulties}; expected {list(DIFFICULTIES)}")
        stage = raw.get("stage", "core")
        if stage not in STAGES:
            raise fail(where, f"stage must be one of {list(STAGES)}, got {stage!r}")
        questions.append(
            Question(
                id=qid,
                text=_text(raw, "text", where, fail),
                competency=_text(raw, "competency", where, fail),
                follow_ups=_strings(raw, "follow_ups", where, fail),
                roles=frozenset(q_roles),
                difficulties=frozenset(q_difficulties),
                stage=stage,
                keywords=tuple(k.lower() for k in _strings(raw, "keywords", where, fail, required=False)),
            )
        )
    bank = QuestionBank(
        tuple(questions), tuple(roles), max_questions, max_follow_ups, opening, closing, acknowledgement, heuristics
    )
    for name in role_names:
        for difficulty in DIFFICULTIES:
            if not any(
                difficulty in q.difficulties and ("*" in q.roles or name in q.roles) and q.stage == "core"
                for q in bank.questions
            ):
                raise fail(f"role {name!r}", f"has no core question for difficulty {difficulty!r}")
    return bank


def _table(data: Mapping[str, Any], key: str, source: str, required: bool = True) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise BankError(f"question bank {source}: [{key}] table is required")
    return value


def _text(table: Mapping[str, Any], key: str, where: str, fail, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise fail(where, f"{key} must be a non-empty string")
    return value.strip()


def _int(table: Mapping[str, Any], key: str, default: int, minimum: int, where: str, fail) -> int:
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise fail(where, f"{key} must be an integer >= {minimum}, got {value!r}")
    return value


def _strings(table: Mapping[str, Any], key: str, where: str, fail, required: bool = True) -> tuple[str, ...]:
    value = table.get(key)
    if value is None and not required:
        return ()
    if not isinstance(value, list) or (required and not value) or not all(isinstance(v, str) and v.strip() for v in value):
        raise fail(where, f"{key} must be a {'non-empty ' if required else ''}list of non-empty strings")
    return tuple(v.strip() for v in value)


def _check_difficulty(difficulty: str) -> str:
    normal = str(difficulty).strip().lower()
    if normal not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {list(DIFFICULTIES)}, got {difficulty!r}")
    return normal


def _normalise(text: str) -> str:
    """Lower case, typographic apostrophes made plain, whitespace collapsed."""
    return " ".join(str(text).lower().replace("\u2019", "'").split())


@functools.lru_cache(maxsize=4096)
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w])" + re.escape(phrase) + r"(?![\w])")


def _contains_phrase(text: str, phrase: str) -> bool:
    return bool(phrase) and _phrase_pattern(phrase.lower()).search(text) is not None


def _count_phrase(text: str, phrase: str) -> int:
    return len(_phrase_pattern(phrase.lower()).findall(text)) if phrase else 0

