"""Request examples from ../shared/api-reference.txt, kept in one place for every test that uses them."""

# POST /api/multimodal-ai/analyze, verbatim (the "..." in facialData left out).
MULTIMODAL_REQUEST = {
    "audioText": "transcript of candidate speech",
    "facialData": {"happy": 20, "neutral": 60},
    "gestureData": [100, 200, 150],
    "eyePositions": [{"x": 0.1, "y": -0.05}],
    "postureKeypoints": {"nose": {"x": 0.5, "y": 0.3}, "shoulders": {"x": 0.5, "y": 0.6}},
}
