"""The heuristic interviewer: question flow, follow-ups, closing, determinism, bank validation."""
from __future__ import annotations

import pytest

from plugins.interviews.interviewer import (
    DIFFICULTIES,
    BankError,
    HeuristicInterviewer,
    QuestionBank,
    assess_answer,
    load_bank,
)

DETAILED = (
    "In my last job I built a REST API in Python with PostgreSQL; I added a Redis cache in front of the "
    "slowest query, which cut p95 latency from 800 ms to 120 ms, and I covered it with integration tests."
)
SHORT = "Yes, I did that."
HEDGING = "I think maybe it was kind of the thing we did, I guess, not sure really how it went in the end."
NO_SPECIFICS = "We talked about it as a team and then we decided what would be best for everyone involved there."


@pytest.fixture(scope="module")
def bank():
    return load_bank()


@pytest.fixture(scope="module")
def interviewer(bank):
    return HeuristicInterviewer(bank)


def run_interview(interviewer, role, difficulty, answer_for, *, with_metadata=True, limit=40):
    """Drive a whole interview; answer_for(turn_number, turn) gives the candidate's text."""
    history, turns = [], []
    for number in range(limit):
        turn = interviewer.next_turn(role, difficulty, history)
        turns.append(turn)
        message = {"role": "assistant", "text": turn.text}
        if with_metadata:
            message["meta"] = turn.metadata
        history.append(message)
        if turn.kind == "closing":
            return turns, history
        history.append({"role": "user", "text": answer_for(number, turn)})
    raise AssertionError("the interview never closed")


def test_the_shipped_bank_has_a_full_plan_for_every_role_and_difficulty(bank):
    for role in bank.role_names:
        for difficulty in DIFFICULTIES:
            plan = bank.plan(role, difficulty)
            assert len(plan) == bank.max_questions, (role, difficulty)
            assert plan[0].stage == "warmup" and plan[-1].stage == "wrapup"
            assert len({q.id for q in plan}) == len(plan)


def test_detailed_answers_follow_the_plan_in_order_then_close(bank, interviewer):
    turns, _ = run_interview(interviewer, "backend", "medium", lambda n, t: DETAILED)
    plan = bank.plan("backend", "medium")

    assert [t.kind for t in turns] == ["question"] * len(plan) + ["closing"]
    assert [t.question_id for t in turns[:-1]] == [q.id for q in plan]
    assert [t.competency for t in turns[:-1]] == [q.competency for q in plan]
    assert turns[0].text == f"{bank.opening} {plan[0].text}"
    assert turns[1].text == f"{bank.acknowledgement} {plan[1].text}"
    assert turns[-1].text == bank.closing


@pytest.mark.parametrize(
    "answer, prefix",
    [(SHORT, "Could you expand on that a little?"), (HEDGING, "Let's make that concrete."), (NO_SPECIFICS, "Could you be more specific?")],
)
def test_vague_answers_get_the_questions_follow_up(bank, interviewer, answer, prefix):
    first = interviewer.next_turn("frontend", "easy", [])
    history = [{"role": "assistant", "text": first.text}, {"role": "user", "text": answer}]
    turn = interviewer.next_turn("frontend", "easy", history)

    question = bank.get(first.question_id)
    assert turn.kind == "follow_up"
    assert turn.question_id == first.question_id
    assert turn.text == f"{prefix} {question.follow_ups[0]}"


def test_a_detailed_answer_gets_no_follow_up(interviewer):
    first = interviewer.next_turn("frontend", "easy", [])
    turn = interviewer.next_turn("frontend", "easy", [{"role": "assistant", "text": first.text}, {"role": "user", "text": DETAILED}])
    assert turn.kind == "question" and turn.question_id != first.question_id


def test_vague_answers_throughout_never_repeat_a_question_and_still_close(bank, interviewer):
    turns, _ = run_interview(interviewer, "data", "hard", lambda n, t: SHORT)
    plan = bank.plan("data", "hard")
    questions = [t for t in turns if t.kind == "question"]
    follow_ups = [t for t in turns if t.kind == "follow_up"]

    assert [t.question_id for t in questions] == [q.id for q in plan]  # each once, in order
    assert [t.question_id for t in follow_ups] == [q.id for q in plan]  # one follow-up each (max_follow_ups = 1)
    assert len({t.text for t in turns}) == len(turns)
    assert turns[-1].kind == "closing"


def test_after_closing_the_interviewer_stays_closed(interviewer):
    _, history = run_interview(interviewer, "devops", "easy", lambda n, t: DETAILED)
    history.append({"role": "user", "text": "Can I ask one more thing?"})
    turn = interviewer.next_turn("devops", "easy", history)
    assert turn.kind == "closing" and turn.question_id is None


def test_history_without_metadata_is_read_by_matching_text(interviewer):
    answers = lambda n, t: SHORT if n % 2 else DETAILED  # noqa: E731
    with_meta, _ = run_interview(interviewer, "fullstack", "easy", answers, with_metadata=True)
    by_text, _ = run_interview(interviewer, "fullstack", "easy", answers, with_metadata=False)
    assert by_text == with_meta


def test_metadata_wins_over_text(bank, interviewer):
    plan = bank.plan("backend", "easy")
    # An interviewer message phrased by the LLM, but recorded as the first two bank questions.
    history = [
        {"role": "assistant", "text": "Hi! Tell me about yourself.", "meta": {"question_id": plan[0].id, "kind": "question"}},
        {"role": "user", "text": DETAILED},
        {"role": "assistant", "text": "Next: HTTP verbs?", "metadata": {"question_id": plan[1].id, "kind": "question"}},
        {"role": "user", "text": DETAILED},
    ]
    assert interviewer.next_turn("backend", "easy", history).question_id == plan[2].id


def test_unknown_interviewer_questions_count_toward_the_limit(bank, interviewer):
    history = []
    for number in range(bank.max_questions - 1):
        history += [{"role": "assistant", "text": f"LLM question number {number}?"}, {"role": "user", "text": DETAILED}]
    turn = interviewer.next_turn("general", "medium", history)
    assert turn.question_id == bank.plan("general", "medium")[-1].id  # only room left for the wrap-up
    history += [{"role": "assistant", "text": turn.text}, {"role": "user", "text": DETAILED}]
    assert interviewer.next_turn("general", "medium", history).kind == "closing"


def test_same_inputs_same_output(bank):
    first = run_interview(HeuristicInterviewer(bank), "data", "medium", lambda n, t: [SHORT, DETAILED, HEDGING][n % 3])
    second = run_interview(HeuristicInterviewer(load_bank()), "data", "medium", lambda n, t: [SHORT, DETAILED, HEDGING][n % 3])
    assert first == second
    history = first[1][:5]
    assert len({HeuristicInterviewer(bank).next_turn("data", "medium", history) for _ in range(5)}) == 1


@pytest.mark.parametrize(
    "role, expected",
    [
        ("Senior Backend Engineer", "backend"),
        ("Front-End Developer", "frontend"),
        ("Full Stack Engineer", "fullstack"),
        ("Machine Learning Engineer", "data"),
        ("Site Reliability Engineer", "devops"),
        ("Python Developer", "backend"),
        ("HTML developer", "general"),  # "ml" must match a whole word only
        ("Chef", "general"),
    ],
)
def test_free_text_roles_resolve_to_bank_roles(bank, role, expected):
    assert bank.resolve_role(role) == expected


def test_role_changes_the_questions(bank, interviewer):
    backend = interviewer.next_turn("backend", "easy", [{"role": "assistant", "text": bank.plan("backend", "easy")[0].text}, {"role": "user", "text": DETAILED}])
    frontend = interviewer.next_turn("frontend", "easy", [{"role": "assistant", "text": bank.plan("frontend", "easy")[0].text}, {"role": "user", "text": DETAILED}])
    assert backend.question_id.startswith("be-") and frontend.question_id.startswith("fe-")


def test_assess_answer_reasons(bank):
    assert assess_answer(SHORT, bank).reasons == ("short", "no_specifics")
    assert "hedging" in assess_answer(HEDGING, bank).reasons
    assert assess_answer(NO_SPECIFICS, bank).reasons == ("no_specifics",)
    assert not assess_answer(DETAILED, bank).vague
    # Numbers, acronyms, code and question keywords all count as specifics.
    filler = "we worked on that part of the product for a while as a group "
    assert assess_answer(filler + "and it took 3 weeks", bank).has_specifics
    assert assess_answer(filler + "using the AWS console", bank).has_specifics
    assert assess_answer(filler + "calling fetch_rows() each time", bank).has_specifics
    question = bank.get("be-hard-consistency")
    assert not assess_answer(filler + "with a saga", bank).has_specifics
    assert assess_answer(filler + "with a saga", bank, question).has_specifics


def test_bad_inputs_are_refused(interviewer):
    with pytest.raises(ValueError, match="difficulty"):
        interviewer.next_turn("backend", "extreme", [])
    with pytest.raises(ValueError, match="role"):
        interviewer.next_turn("backend", "easy", [{"role": "moderator", "text": "hi"}])
    with pytest.raises(ValueError, match="text"):
        interviewer.next_turn("backend", "easy", [{"role": "user", "text": 42}])


# -- bank validation ---------------------------------------------------------------------------------------
MINIMAL = """
[interview]
closing = "Bye."
[roles.general]
[roles.backend]
aliases = ["server"]
[[questions]]
id = "q1"
roles = ["*"]
difficulties = ["easy", "medium", "hard"]
competency = "c"
text = "Question one?"
follow_ups = ["More?"]
"""


def write(tmp_path, text):
    path = tmp_path / "questions.toml"
    path.write_text(text)
    return path


def test_a_minimal_bank_loads(tmp_path):
    bank = load_bank(write(tmp_path, MINIMAL))
    assert [q.id for q in bank.plan("server engineer", "hard")] == ["q1"]
    assert bank.max_questions == 6 and bank.max_follow_ups == 1


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t + t[t.index("[[questions]]"):], "question 'q1': duplicate id"),
        (lambda t: t.replace('roles = ["*"]', 'roles = ["mobile"]'), "unknown roles"),
        (lambda t: t.replace('"easy", "medium", "hard"', '"easy", "insane"'), "unknown difficulties"),
        (lambda t: t.replace('follow_ups = ["More?"]', "follow_ups = []"), "follow_ups"),
        (lambda t: t.replace('"easy", "medium", "hard"', '"easy"'), "no core question for difficulty 'medium'"),
        (lambda t: t.replace('text = "Question one?"', 'text = "Q?"\ntopic = "x"'), "unknown keys"),
        (lambda t: t.replace('closing = "Bye."', 'closing = "Bye."\nmax_questions = 0'), "max_questions"),
        (lambda t: t.replace("[roles.general]\n", ""), "fallback role"),
        (lambda t: t.replace('competency = "c"\n', ""), "competency"),
        (lambda t: t + "\n[[questions]\n", "invalid TOML"),
    ],
)
def test_bad_banks_fail_with_a_clear_error(tmp_path, change, message):
    with pytest.raises(BankError, match=message) as caught:
        load_bank(write(tmp_path, change(MINIMAL)))
    assert "questions.toml" in str(caught.value)


def test_missing_bank_file(tmp_path):
    with pytest.raises(BankError, match="not found"):
        load_bank(tmp_path / "nope.toml")


def test_from_dict_validates_too():
    with pytest.raises(BankError, match="\\[interview\\]"):
        QuestionBank.from_dict({"roles": {"general": {}}, "questions": []})
