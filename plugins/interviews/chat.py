"""The chat turn: store the candidate's message, ask the LLM interviewer (or the heuristic
one), check and store the reply.

Flow of ``chat_turn``:

1. the caller must be the interview's candidate; a scheduled interview starts on the first
   message (``interview.started``); completed/terminated ones refuse chat (409);
2. the candidate's message is appended atomically (only while ``in_progress``);
3. ``prompting.build_messages`` builds the prompt (role, difficulty, title, resume excerpts from
   ``metadata.resume.excerpts``, history within the token budget) and the LLM is asked in JSON
   mode for ``{"reply", "kind", "competency"}``;
4. the reply text goes through ``prompting.check_reply``; if the LLM is not configured, its
   breaker is open, it fails, or its output is refused, the ``HeuristicInterviewer`` answers
   and the response says ``source: "heuristic"`` with ``fallbackReason``;
5. the reply is appended with how it was made (source, tokens, latency) in its ``meta``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter

from core.llm import LLMUnavailable, find_llm
from core.lookup import METRICS, find_service, provide
from plugins.interviews import prompting
from plugins.interviews.access import Viewer
from plugins.interviews.interviewer import HeuristicInterviewer, load_bank
from plugins.interviews.models import Interview
from plugins.interviews.services import add_message, ensure_chat_allowed, get_for, setting, start_if_scheduled

REPLY_KINDS = ("question", "follow_up", "closing")
# Appended to the system prompt: JSON mode needs the word JSON in the prompt, and the kind
# and competency let the heuristic interviewer pick up where the LLM left off.
JSON_INSTRUCTION = (
    'Answer with one JSON object only: {"reply": "<what you say to the candidate>", '
    '"kind": "question" | "follow_up" | "closing", "competency": "<the competency the question probes>"}.'
)
FALLBACK_NOTICES = {
    "not_configured": "the AI interviewer is not configured",
    "breaker_open": "the AI interviewer is temporarily unavailable (circuit breaker open)",
    "rate_limited": "the AI interviewer is rate limited",
    "server_error": "the AI interviewer failed",
    "timeout": "the AI interviewer did not answer in time",
    "invalid_output": "the AI interviewer's answer was not valid",
    "connection": "the AI interviewer could not be reached",
    "rejected": "the AI interviewer refused the request",
    "unsafe_output": "the AI interviewer's answer failed the output check",
}


def register_chat_services(config, settings) -> None:
    """Provide what a chat turn needs: the heuristic interviewer over the configured question bank
    (service ``interviews.interviewer``; a bad bank stops startup) and the replies counter
    (service ``interviews.chat_replies``) on the app's metrics registry."""
    path = settings["interviewminds.interviews.questions_file"] or None
    provide(config, "interviews.interviewer", HeuristicInterviewer(load_bank(path)))
    provide(config, "interviews.chat_replies", Counter(
        "interviewminds_interviews_chat_replies_total", "Chat replies by source and fallback reason.",
        ["source", "reason"], registry=find_service(config.registry, METRICS).registry))


@dataclass(frozen=True)
class InterviewerReply:
    text: str
    source: str  # the LLM provider's name (e.g. "groq") or "heuristic"
    meta: dict[str, Any]
    tokens_prompt: int = 0
    tokens_completion: int = 0
    model: str | None = None
    fallback_reason: str | None = None


def resume_excerpts(doc: Interview) -> list[str]:
    """Resume excerpts a resume plugin attached under ``metadata.resume.excerpts``."""
    resume = (doc.metadata or {}).get("resume")
    excerpts = resume.get("excerpts") if isinstance(resume, dict) else None
    if not isinstance(excerpts, list):
        return []
    return [e for e in excerpts if isinstance(e, str) and e.strip()]


def history_of(doc: Interview) -> list[dict[str, Any]]:
    return [{"role": m.role, "text": m.text, "meta": dict(m.details or {})} for m in doc.messages]


def _validate_reply(data: dict) -> dict | None:
    reply = data.get("reply")
    if not isinstance(reply, str) or not reply.strip():
        return None
    kind = data.get("kind")
    competency = data.get("competency")
    return {
        "reply": reply,
        "kind": kind if kind in REPLY_KINDS else None,
        "competency": competency.strip()[:80] if isinstance(competency, str) and competency.strip() else None,
    }


def ask_llm(llm, doc: Interview, token_budget: int) -> InterviewerReply:
    """The LLM's reply for the interview's conversation; raises ``LLMUnavailable`` on any failure
    (``unsafe_output`` when the text fails ``check_reply``)."""
    interview = {"role": doc.role, "difficulty": doc.difficulty, "title": doc.title}
    reserve = prompting.estimate_tokens("\n\n" + JSON_INSTRUCTION)
    messages = prompting.build_messages(interview, history_of(doc), resume_excerpts=resume_excerpts(doc),
                                        token_budget=token_budget - reserve)
    messages[0] = {"role": "system", "content": messages[0]["content"] + "\n\n" + JSON_INSTRUCTION}
    answer = llm.chat_json(messages, validate=_validate_reply, temperature=0.4, max_tokens=400)
    text = prompting.check_reply(answer.data["reply"], system_prompt=messages[0]["content"])
    if text is None:
        raise _UnsafeOutput(answer)
    meta = {"kind": answer.data["kind"], "competency": answer.data["competency"]}
    return InterviewerReply(text, answer.source, meta, answer.tokens_prompt, answer.tokens_completion, answer.model)


class _UnsafeOutput(Exception):
    def __init__(self, answer) -> None:
        super().__init__("unsafe_output")
        self.answer = answer


def heuristic_reply(interviewer: HeuristicInterviewer, doc: Interview, reason: str) -> InterviewerReply:
    turn = interviewer.next_turn(doc.role, doc.difficulty, history_of(doc))
    return InterviewerReply(turn.text, "heuristic", turn.metadata, fallback_reason=reason)


def chat_turn(registry, viewer: Viewer, interview_id: str, text: str) -> dict[str, Any]:
    """One chat exchange (see the module docstring); returns the response body."""
    doc = get_for(viewer, interview_id)
    ensure_chat_allowed(viewer, doc)
    doc = start_if_scheduled(registry, doc)
    max_messages = setting(registry, "chat_max_messages")
    doc = add_message(doc, "candidate", text, max_messages=max_messages)

    started = time.perf_counter()
    llm = find_llm(registry)
    interviewer = find_service(registry, "interviews.interviewer")
    tokens_lost = 0
    try:
        if llm is None:
            raise LLMUnavailable("not_configured", "no LLM provider is configured")
        reply = ask_llm(llm, doc, setting(registry, "chat_token_budget"))
    except LLMUnavailable as err:
        reply = heuristic_reply(interviewer, doc, err.reason)
    except _UnsafeOutput as err:
        tokens_lost = err.answer.tokens_prompt + err.answer.tokens_completion
        reply = heuristic_reply(interviewer, doc, "unsafe_output")
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    find_service(registry, "interviews.chat_replies").labels(reply.source, reply.fallback_reason or "").inc()
    tokens_used = reply.tokens_prompt + reply.tokens_completion + tokens_lost

    meta = dict(reply.meta)
    meta.update({"source": reply.source, "tokensUsed": tokens_used, "latencyMs": latency_ms})
    if reply.model:
        meta["model"] = reply.model
    if reply.fallback_reason:
        meta["fallbackReason"] = reply.fallback_reason
    doc = add_message(doc, "interviewer", reply.text, meta, max_messages=max_messages + 1)

    body: dict[str, Any] = {
        "interviewId": str(doc.id),
        "reply": reply.text,
        "source": reply.source,
        "tokensUsed": tokens_used,
        "tokens": {"prompt": reply.tokens_prompt, "completion": reply.tokens_completion},
        "latencyMs": latency_ms,
        "kind": meta.get("kind"),
        "competency": meta.get("competency"),
        "status": doc.status,
        "version": doc.version,
        "messageCount": len(doc.messages),
    }
    if reply.model:
        body["model"] = reply.model
    if reply.fallback_reason:
        body["fallbackReason"] = reply.fallback_reason
        body["notice"] = f"{FALLBACK_NOTICES.get(reply.fallback_reason, 'the AI interviewer is unavailable')}; " \
                         "the built-in interviewer answered"
    return body
