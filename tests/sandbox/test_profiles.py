"""Simulated candidates differ by profile, and their scores follow what they answered.

Everything goes over real HTTP to a live sandbox. The overall score of a session is the mean of
its criterion scores (the sandbox stores no overall score, as the real API stores none)."""

import re
from statistics import mean

import pytest

from aural_mcp.sandbox.answers import PROFILES, SKIP_ANSWER
from aural_mcp.sandbox.words import keywords

from .conftest import err, new_interview

pytestmark = pytest.mark.anyio

QUESTIONS = [
    {"text": "Describe a recent API you designed and how you versioned it."},
    {"text": "How do you roll out a risky database migration?"},
    {"text": "Tell me about a production incident you debugged."},
    {
        "text": "Which deployment style do you prefer?",
        "type": "SINGLE_CHOICE",
        "options": ["Blue-green", "Canary", "Rolling"],
    },
    {
        "text": "Which tools do you use for observability?",
        "type": "MULTIPLE_CHOICE",
        "options": ["Prometheus", "Grafana", "Jaeger", "Sentry"],
    },
    {"text": "Write a function that returns the sorted unique items of a list.", "type": "CODING"},
]


async def screening(http, **fields):
    iv = await new_interview(http, **fields)
    r = await http.post(f"/api/v1/interviews/{iv['id']}/questions", json=QUESTIONS)
    assert r.status_code == 200, r.text
    assert (await http.post(f"/api/v1/interviews/{iv['id']}/publish")).status_code == 200
    return iv


async def simulate(http, iid, **body):
    r = await http.post(f"/sandbox/interviews/{iid}/simulate", json=body)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def overall(session):
    return round(mean(c["score"] for c in session["insights"]["criteriaEvaluations"]), 2)


def answers(session):
    return [m["content"] for m in session["messages"] if m["role"] == "USER"]


def grounded(rationale, said):
    """The rationale quotes or names a word of what was said, or says what was missing."""
    words = {w for w in keywords(said) if len(w) > 3}
    named = words & set(re.findall(r"[a-z][a-z'\-]+", rationale.lower()))
    missing = re.search(r"\bno\b|\bnever\b|\bnone\b|skipped|miss", rationale.lower())
    return bool(named or missing)


async def test_ten_seeds_give_a_ranking_with_at_most_two_ties(http):
    for criteria in (
        None,
        [
            {"name": "Testing", "description": "tests and rollbacks"},
            {"name": "Ownership", "description": "owned the production incident"},
        ],
    ):
        iv = await screening(http, **({"assessmentCriteria": criteria} if criteria else {}))
        sessions = [await simulate(http, iv["id"], seed=seed, status="COMPLETED") for seed in range(1, 11)]
        scores = [overall(s) for s in sessions]
        assert len(scores) - len(set(scores)) <= 2, scores
        names = [c["name"] for c in sessions[0]["insights"]["criteriaEvaluations"]]
        assert names == ([c["name"] for c in criteria] if criteria else ["Relevance", "Evidence", "Clarity"])
        assert {s["insights"]["profile"] for s in sessions} == set(PROFILES)  # 10 seeds cover them all
        assert all(s["insights"]["scoring"] == "sandbox heuristic — not Aural's model" for s in sessions)


async def test_criterion_scores_follow_the_profile(http):
    for criteria in (None, [{"name": "Testing", "description": "tests and rollbacks"}]):
        iv = await screening(http, **({"assessmentCriteria": criteria} if criteria else {}))
        by_profile = {}
        for profile in ("strong", "solid", "weak", "off-topic", "evasive"):
            runs = [await simulate(http, iv["id"], seed=seed, profile=profile) for seed in range(1, 5)]
            assert all(s["status"] == "COMPLETED" and s["insights"]["profile"] == profile for s in runs)
            by_profile[profile] = runs
        names = [c["name"] for c in by_profile["strong"][0]["insights"]["criteriaEvaluations"]]
        for i, name in enumerate(names):
            avg = {
                p: mean(s["insights"]["criteriaEvaluations"][i]["score"] for s in runs)
                for p, runs in by_profile.items()
            }
            assert avg["strong"] > avg["solid"] > avg["weak"], (name, avg)
            assert avg["solid"] > max(avg["off-topic"], avg["evasive"]), (name, avg)
        q_avg = {
            p: mean(e["score"] for s in runs for e in s["insights"]["questionEvaluations"])
            for p, runs in by_profile.items()
        }
        assert q_avg["strong"] > q_avg["solid"] > q_avg["weak"], q_avg


async def test_every_score_has_a_grounded_rationale(http):
    iv = await screening(http)
    for seed in range(1, 13):
        s = await simulate(http, iv["id"], seed=seed, status="COMPLETED")
        said = answers(s)
        evaluations = s["insights"]["questionEvaluations"]
        assert [e["questionId"] for e in evaluations] and len(evaluations) == len(said) == len(QUESTIONS)
        for e, answer in zip(evaluations, said, strict=True):
            assert 1 <= e["score"] <= 10 and e["rationale"].strip() and "\n" not in e["rationale"]
            assert grounded(e["rationale"], answer), (e["rationale"], answer)
        for c in s["insights"]["criteriaEvaluations"]:
            assert 1 <= c["score"] <= 10 and c["rationale"].strip() and "\n" not in c["rationale"]
            assert grounded(c["rationale"], " ".join(said)), (c["rationale"], said)


async def test_answers_follow_the_profile(http):
    iv = await screening(http)
    strong, weak, off, evasive = [
        answers(await simulate(http, iv["id"], seed=3, profile=p))
        for p in ("strong", "weak", "off-topic", "evasive")
    ]
    assert re.search(r"\d", strong[0]) and "because" in strong[0] and "api" in strong[0].lower()
    assert len(weak[0].split()) < len(strong[0].split()) / 2 and not re.search(r"\d", weak[0])
    assert not {"api", "versioned"} & set(off[0].lower().split())
    assert "depends" in evasive[0]
    assert "def " in strong[5] and "return" in strong[5]  # CODING gets code
    incomplete = await simulate(http, iv["id"], seed=3, profile="incomplete")
    assert incomplete["status"] in ("IN_PROGRESS", "ABANDONED") and incomplete["insights"] is None
    assert len(answers(incomplete)) < len(QUESTIONS)
    done = await simulate(http, iv["id"], seed=3, profile="incomplete", status="COMPLETED")
    evaluations = done["insights"]["questionEvaluations"]
    assert [e["score"] for e in evaluations][3:] == [1, 1, 1] and all(
        "no answer" in e["rationale"] for e in evaluations[3:]
    )


async def test_choice_answers_pick_options_whatever_their_shape(http, sb, key):
    shapes = {
        "strings": ["Blue-green", "Canary", "Rolling"],
        "dashboard": {"options": ["Blue-green", "Canary", "Rolling"], "allowMultiple": False},
        "template": [
            {"label": "Blue-green", "value": "bg"},
            {"label": "Canary", "value": "c"},
            {"label": "Rolling", "value": "r"},
        ],
    }
    questions = [
        {"text": f"Pick a deployment style ({name}).", "type": qtype, "options": options}
        for name, options in shapes.items()
        for qtype in ("SINGLE_CHOICE", "MULTIPLE_CHOICE")
    ]
    seeded = sb.seed(
        {
            "key": key,
            "interviews": [
                {"title": "Choices", "isActive": True, "requireInvite": False, "questions": questions}
            ],
        }
    )
    (iid,) = seeded["interviewIds"]
    labels = ["Blue-green", "Canary", "Rolling"]
    for seed in range(1, 11):
        s = await simulate(http, iid, seed=seed, status="COMPLETED")
        for q, answer in zip(questions, answers(s), strict=True):
            if s["insights"]["profile"] == "incomplete" and answer == SKIP_ANSWER:
                continue  # an incomplete candidate skips the later questions
            picked = [label for label in labels if label in answer]
            assert picked and any(answer.startswith(label) for label in picked), answer
            assert len(picked) == 1 if q["type"] == "SINGLE_CHOICE" else 1 <= len(picked) <= 2, answer
        for e in s["insights"]["questionEvaluations"]:
            assert re.search("picks|deflects|off the question|no answer", e["rationale"]), e["rationale"]


async def test_profiles_are_deterministic_per_seed_and_checked(http):
    iv = await screening(http)
    first = [await simulate(http, iv["id"], seed=seed, status="COMPLETED") for seed in (1, 2, 7)]
    again = [await simulate(http, iv["id"], seed=seed, status="COMPLETED") for seed in (1, 2, 7)]
    for a, b in zip(first, again, strict=True):
        assert answers(a) == answers(b) and a["insights"] == b["insights"]
    assert (
        first[0]["insights"]["profile"] == first[2]["insights"]["profile"] != first[1]["insights"]["profile"]
    )
    unseeded = [await simulate(http, iv["id"]) for _ in range(5)]
    assert all(s["status"] == "COMPLETED" for s in unseeded)  # without a seed or status, sessions complete
    for body in ({"profile": "genius"}, {"profile": 3}):
        r = await http.post(f"/sandbox/interviews/{iv['id']}/simulate", json=body)
        status, code, message = err(r)
        assert (status, code) == (400, "BAD_REQUEST") and "profile" in message
        assert all(p in message for p in PROFILES)
