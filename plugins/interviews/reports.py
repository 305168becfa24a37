"""Aggregates over interviews: analytics (GraphQL), the dashboard and the candidate report.

Pipelines use only ``$match``, ``$group`` with ``$sum``, and ``$sort`` over fields stored at
write time (``status``, ``score_bucket``, ``score_overall``, ``completed_day``), which MongoDB
and FerretDB 1.24 both run. Each ``$group`` has ONE accumulator: FerretDB 1.24 computes only
the first accumulator of a ``$group`` (the others come back as 0), so counts and sums are
separate pipelines. A mean is sum / count.

Time ranges select on ``created_at`` (the interviews created in the range); completions per
day select on ``completed_at``.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from plugins.interviews.access import Viewer
from core.clock import utcnow
from plugins.interviews.models import BUCKET_WIDTH, STATUSES, Interview

RANGE_DAYS = {"LAST_24_HOURS": 1, "LAST_7_DAYS": 7, "LAST_30_DAYS": 30, "LAST_90_DAYS": 90, "ALL_TIME": None}
BUCKETS = tuple(range(0, 100, BUCKET_WIDTH))  # 0, 10, ..., 90
CANDIDATE_REPORT_LIMIT = 500  # newest interviews in one candidate report


def range_start(time_range: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """The first instant of a time range (None for ALL_TIME)."""
    if time_range not in RANGE_DAYS:
        raise ValueError(f"timeRange must be one of {', '.join(RANGE_DAYS)}, got {time_range!r}")
    days = RANGE_DAYS[time_range]
    return None if days is None else (now or utcnow()) - dt.timedelta(days=days)


def _and(*clauses: dict) -> dict:
    parts = [c for c in clauses if c]
    if not parts:
        return {}
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _group_count(match: dict, key: str) -> dict[Any, int]:
    pipeline = [{"$match": match}, {"$group": {"_id": f"${key}", "n": {"$sum": 1}}}]
    return {row["_id"]: int(row["n"]) for row in Interview._get_collection().aggregate(pipeline)}


def _sum(match: dict, field: str) -> float:
    pipeline = [{"$match": match}, {"$group": {"_id": None, "total": {"$sum": f"${field}"}}}]
    rows = list(Interview._get_collection().aggregate(pipeline))
    return float(rows[0]["total"]) if rows else 0.0


def _histogram(counts: dict[Any, int]) -> list[dict[str, Any]]:
    out = []
    for low in BUCKETS:
        high = 100 if low == BUCKETS[-1] else low + BUCKET_WIDTH - 1
        out.append({"bucket": f"{low}-{high}", "min": low, "max": high, "count": counts.get(low, 0)})
    return out


def analytics(viewer: Viewer, time_range: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """Counts by status, completion rate (completed / created), average overall score and
    score distribution of the interviews created in the range that the viewer may see."""
    start = range_start(time_range, now)
    match = _and(viewer.visibility_filter(), {"created_at": {"$gte": start}} if start else {})
    by_status_raw = _group_count(match, "status")
    by_status = {status: by_status_raw.get(status, 0) for status in STATUSES}
    total = sum(by_status.values())
    scored_match = _and(match, {"score_bucket": {"$ne": None}})
    buckets = _group_count(scored_match, "score_bucket")
    scored = sum(buckets.values())
    average = round(_sum(scored_match, "score_overall") / scored, 2) if scored else None
    return {
        "timeRange": time_range,
        "from": start,
        "to": now or utcnow(),
        "total": total,
        "byStatus": by_status,
        "completionRate": round(by_status["completed"] / total, 4) if total else 0.0,
        "scored": scored,
        "averageScore": average,
        "scoreDistribution": _histogram(buckets),
    }


def dashboard(viewer: Viewer, time_range: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """Analytics plus completions per day (days with at least one completion, oldest first)."""
    now = now or utcnow()
    body = analytics(viewer, time_range, now)
    start = body["from"]
    match = _and(viewer.visibility_filter(), {"status": "completed"},
                 {"completed_at": {"$gte": start}} if start else {})
    pipeline = [{"$match": match}, {"$group": {"_id": "$completed_day", "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]
    per_day = [{"day": row["_id"], "count": int(row["n"])} for row in Interview._get_collection().aggregate(pipeline)]
    body["completionsPerDay"] = per_day
    return body


def _trend(points: list[float]) -> dict[str, Any]:
    """Least-squares slope of overall scores in interview order, and its direction."""
    n = len(points)
    if n < 2:
        return {"slope": None, "direction": "insufficient_data"}
    mean_x, mean_y = (n - 1) / 2, sum(points) / n
    numerator = sum((i - mean_x) * (y - mean_y) for i, y in enumerate(points))
    denominator = sum((i - mean_x) ** 2 for i in range(n))
    slope = numerator / denominator
    direction = "improving" if slope > 1 else "declining" if slope < -1 else "stable"
    return {"slope": round(slope, 2), "direction": direction}


def candidate_report(viewer: Viewer, candidate_id: str) -> dict[str, Any] | None:
    """A candidate's interviews (those the viewer may see), scores by competency and the trend of
    overall scores, oldest first. None when there is nothing to show."""
    query = _and({"owner": candidate_id}, viewer.visibility_filter())
    docs = list(Interview.objects(__raw__=query).exclude("messages", "metadata_json", "legacy_metadata")
                .order_by("-created_at").limit(CANDIDATE_REPORT_LIMIT))
    if not docs:
        return None
    docs.reverse()  # oldest first
    interviews, competencies, overall_points = [], {}, []
    for doc in docs:
        overall = doc.scores.overall if doc.scores else None
        interviews.append({
            "id": str(doc.id), "title": doc.title, "role": doc.role, "difficulty": doc.difficulty,
            "status": doc.status, "overallScore": overall, "createdAt": doc.created_at,
            "completedAt": doc.completed_at,
        })
        if doc.scores is None:
            continue
        overall_points.append({"interviewId": str(doc.id), "at": doc.completed_at or doc.created_at,
                               "overall": overall})
        for comp in doc.scores.competencies:
            entry = competencies.setdefault(comp.subject.lower(), {"subject": comp.subject, "scores": []})
            percent = round(100 * comp.score / comp.full_mark, 2) if comp.full_mark else 0.0
            entry["scores"].append({"interviewId": str(doc.id), "score": comp.score, "fullMark": comp.full_mark,
                                    "percent": percent})
    for entry in competencies.values():
        percents = [s["percent"] for s in entry["scores"]]
        entry["averagePercent"] = round(sum(percents) / len(percents), 2)
        entry["latestPercent"] = percents[-1]
        entry["trend"] = _trend(percents)
    scored = [p["overall"] for p in overall_points]
    return {
        "candidateId": candidate_id,
        "summary": {
            "interviews": len(interviews),
            "completed": sum(1 for i in interviews if i["status"] == "completed"),
            "scored": len(scored),
            "averageScore": round(sum(scored) / len(scored), 2) if scored else None,
        },
        "interviews": interviews,
        "competencies": sorted(competencies.values(), key=lambda e: e["subject"].lower()),
        "trend": {"points": overall_points, **_trend(scored)},
    }
