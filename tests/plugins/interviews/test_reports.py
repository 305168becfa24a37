"""GET /api/reports/dashboard and /api/reports/candidate/{id}: aggregates by time range,
score histogram, completions per day, and a candidate's competencies and trend."""
from __future__ import annotations

import datetime as dt

import pymongo
from bson import ObjectId

DAY = dt.timedelta(days=1)


def seed(app, rows: list[dict]) -> None:
    """Insert interviews with given owner/status/score/created/completed (report fields as the
    services store them)."""
    docs = []
    for row in rows:
        created, completed = row["created"], row.get("completed")
        score = row.get("score")
        docs.append({
            "_id": ObjectId(), "owner": row.get("owner", "cand-r"), "interviewers": row.get("interviewers", []),
            "title": row.get("title", "t"), "role": "Backend Engineer", "difficulty": "medium",
            "status": row["status"], "messages": [], "metadata": {}, "version": 2,
            "scores": None if score is None else {"overall": float(score), "competencies": [
                {"subject": s, "score": float(v), "full_mark": 10.0} for s, v in row.get("comps", {}).items()]},
            "score_overall": None if score is None else float(score),
            "score_bucket": None if score is None else min(int(score) // 10 * 10, 90),
            "created_at": created, "updated_at": created, "created_day": created.strftime("%Y-%m-%d"),
            "completed_at": completed, "completed_day": completed.strftime("%Y-%m-%d") if completed else None,
        })
    client = pymongo.MongoClient(app.registry.settings["interviewminds.mongo.uri"])
    client.get_default_database()["interviews_interviews"].insert_many(docs)
    client.close()


def test_dashboard_aggregates_by_time_range(app):
    now = dt.datetime.now(dt.timezone.utc)
    d1, d2 = now - 3 * DAY, now - 2 * DAY
    seed(app, [
        {"status": "completed", "created": d1, "completed": d1, "score": 95},
        {"status": "completed", "created": d1, "completed": d2, "score": 100},
        {"status": "completed", "created": d2, "completed": d2, "score": 41},
        {"status": "in_progress", "created": now},
        {"status": "terminated", "created": now, "completed": now},
        {"status": "scheduled", "created": now},
        {"status": "completed", "created": now - 60 * DAY, "completed": now - 59 * DAY, "score": 10},
    ])
    headers = app.auth("int-r", "interviewer")
    week = app.get("/api/reports/dashboard", {"timeRange": "LAST_7_DAYS"}, headers=headers).json
    assert week["total"] == 6
    assert week["byStatus"] == {"scheduled": 1, "in_progress": 1, "completed": 3, "terminated": 1}
    assert week["completionRate"] == 0.5
    assert week["scored"] == 3 and week["averageScore"] == round((95 + 100 + 41) / 3, 2)
    histogram = {b["bucket"]: b["count"] for b in week["scoreDistribution"]}
    assert histogram["90-100"] == 2 and histogram["40-49"] == 1 and sum(histogram.values()) == 3
    assert len(histogram) == 10
    assert week["completionsPerDay"] == [{"day": d1.strftime("%Y-%m-%d"), "count": 1},
                                         {"day": d2.strftime("%Y-%m-%d"), "count": 2}]
    everything = app.get("/api/reports/dashboard", {"timeRange": "ALL_TIME"}, headers=headers).json
    assert everything["total"] == 7 and everything["from"] is None
    assert everything["completionsPerDay"][0]["day"] == (now - 59 * DAY).strftime("%Y-%m-%d")
    assert app.get("/api/reports/dashboard", {"timeRange": "LAST_24_HOURS"}, headers=headers).json["total"] == 3
    default = app.get("/api/reports/dashboard", headers=headers).json
    assert default["timeRange"] == "LAST_30_DAYS" and default["total"] == 6
    app.get("/api/reports/dashboard", {"timeRange": "LAST_YEAR"}, headers=headers, status=400)


def test_candidate_report_has_competencies_and_trend(app):
    now = dt.datetime.now(dt.timezone.utc)
    seed(app, [
        {"owner": "cand-t", "status": "completed", "created": now - 30 * DAY, "completed": now - 30 * DAY,
         "score": 50, "comps": {"SQL": 4, "Python": 6}},
        {"owner": "cand-t", "status": "completed", "created": now - 20 * DAY, "completed": now - 20 * DAY,
         "score": 65, "comps": {"SQL": 6}},
        {"owner": "cand-t", "status": "completed", "created": now - 10 * DAY, "completed": now - 10 * DAY,
         "score": 80, "comps": {"SQL": 8, "Python": 7}},
        {"owner": "cand-t", "status": "scheduled", "created": now},
        {"owner": "someone-else", "status": "completed", "created": now, "completed": now, "score": 99},
    ])
    report = app.get("/api/reports/candidate/cand-t", headers=app.auth("cand-t")).json
    assert report["candidateId"] == "cand-t"
    assert report["summary"] == {"interviews": 4, "completed": 3, "scored": 3, "averageScore": 65.0}
    assert [i["overallScore"] for i in report["interviews"]] == [50.0, 65.0, 80.0, None]  # oldest first
    sql, python = report["competencies"][1], report["competencies"][0]
    assert sql["subject"] == "SQL" and [s["percent"] for s in sql["scores"]] == [40.0, 60.0, 80.0]
    assert sql["averagePercent"] == 60.0 and sql["latestPercent"] == 80.0 and sql["trend"]["direction"] == "improving"
    assert python["subject"] == "Python" and python["averagePercent"] == 65.0
    assert report["trend"]["direction"] == "improving" and report["trend"]["slope"] == 15.0
    assert [p["overall"] for p in report["trend"]["points"]] == [50.0, 65.0, 80.0]


def test_candidate_report_errors(app):
    app.get("/api/reports/candidate/nobody", headers=app.auth("adm-r", "admin"), status=404)
    app.get("/api/reports/candidate/bad%20id", headers=app.auth("adm-r", "admin"), status=400)
