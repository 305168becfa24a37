"""BlazeFace face detection through cv2.dnn: letterboxing, anchors, box decoding, weighted NMS.

Two models of one family (MediaPipe BlazeFace, see modelfiles.py):

* short range, 128x128 input, anchors on a 16x16 grid (2 per cell) and an 8x8 grid (6 per
  cell), 896 in all: faces from about an eighth of the frame width up (the candidate at the desk);
* full range, 192x192 input, one anchor per cell of a 48x48 grid, 2304 in all: faces down to
  about 4% of the frame width (people in the background).

Both output, per anchor, one score logit and 16 regression values: the box centre offset and
size, then six keypoints (the subject's right eye, left eye, nose tip, mouth centre, right ear
tragion, left ear tragion), all in pixels of the model input relative to the anchor centre.
Every anchor has unit size (MediaPipe's "fixed anchor size"), so decoding is a shift and a scale.
The pre- and post-processing below was written for this project from that description.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.lazy import lazy_module

cv2 = lazy_module("cv2")  # imported on first use: most processes never need it
np = lazy_module("numpy")

from plugins.proctoring.modelfiles import load_net

KEYPOINTS = ("right_eye", "left_eye", "nose", "mouth", "right_ear", "left_ear")


@dataclass(frozen=True)
class DetectorSpec:
    file: str
    size: int
    grids: tuple[tuple[int, int], ...]  # (cells per side, anchors per cell)


SHORT_RANGE = DetectorSpec("face_detection_short_range.tflite", 128, ((16, 2), (8, 6)))
FULL_RANGE = DetectorSpec("face_detection_full_range.tflite", 192, ((48, 1),))


def anchor_centres(spec: DetectorSpec) -> np.ndarray:
    """(N, 2) anchor centres in 0..1 of the model input, in the order of the model's outputs."""
    parts = []
    for cells, per_cell in spec.grids:
        ys, xs = np.mgrid[0:cells, 0:cells]
        centres = np.stack([(xs.ravel() + 0.5) / cells, (ys.ravel() + 0.5) / cells], axis=1)
        parts.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(parts).astype(np.float32)


@dataclass
class Detection:
    """One face in normalised frame coordinates (0..1 of the width / height)."""

    x: float
    y: float
    w: float
    h: float
    score: float
    keypoints: np.ndarray  # (6, 2) normalised (x, y), in KEYPOINTS order
    source: str  # "short_range" or "full_range"

    @property
    def area(self) -> float:
        return self.w * self.h


class BlazeFace:
    """One BlazeFace model: ``detect(bgr)`` returns the faces above ``min_score``."""

    def __init__(self, spec: DetectorSpec, model_dir: str | None = None, name: str = ""):
        self.spec = spec
        self.name = name or spec.file
        self.net = load_net(spec.file, model_dir)
        self.anchors = anchor_centres(spec)
        self.outputs = self.net.getUnconnectedOutLayersNames()

    def raw(self, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(scores 0..1, boxes (N, 4) cx cy w h, keypoints (N, 6, 2)), normalised to the frame."""
        size = self.spec.size
        height, width = bgr.shape[:2]
        scale = size / max(width, height)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        pad_x, pad_y = (size - new_w) // 2, (size - new_h) // 2
        # Letterbox: keep the aspect ratio, pad with black (the models were trained that way).
        canvas = np.zeros((size, size, 3), np.uint8)
        canvas[pad_y:pad_y + new_h, pad_x:pad_x + new_w] = cv2.resize(bgr, (new_w, new_h), interpolation=cv2.INTER_AREA)
        blob = cv2.dnn.blobFromImage(canvas, 1.0 / 127.5, None, (127.5, 127.5, 127.5), swapRB=True)  # RGB, -1..1
        self.net.setInput(blob)
        logits, regress = self.net.forward(self.outputs)
        logits = logits.reshape(-1)
        regress = regress.reshape(-1, 16)
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))
        # Input pixels -> 0..1 of the model input (anchors have unit size) -> 0..1 of the frame.
        offsets = regress / size
        cx = offsets[:, 0] + self.anchors[:, 0]
        cy = offsets[:, 1] + self.anchors[:, 1]
        kps = offsets[:, 4:16].reshape(-1, 6, 2) + self.anchors[:, None, :]
        sx, sy = size / new_w, size / new_h
        ox, oy = pad_x / size, pad_y / size
        boxes = np.stack([(cx - ox) * sx, (cy - oy) * sy, offsets[:, 2] * sx, offsets[:, 3] * sy], axis=1)
        kps[:, :, 0] = (kps[:, :, 0] - ox) * sx
        kps[:, :, 1] = (kps[:, :, 1] - oy) * sy
        return scores, boxes, kps

    def detect(self, bgr: np.ndarray, min_score: float, nms_iou: float = 0.3) -> list[Detection]:
        scores, boxes, kps = self.raw(bgr)
        keep = np.nonzero(scores >= min_score)[0]
        return weighted_nms(scores[keep], boxes[keep], kps[keep], nms_iou, self.name)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every centre-size box of ``a`` (N, 4) with every one of ``b`` (M, 4)."""
    a0, a1 = a[:, None, :2] - a[:, None, 2:] / 2, a[:, None, :2] + a[:, None, 2:] / 2
    b0, b1 = b[None, :, :2] - b[None, :, 2:] / 2, b[None, :, :2] + b[None, :, 2:] / 2
    inter = np.clip(np.minimum(a1, b1) - np.maximum(a0, b0), 0, None).prod(axis=2)
    union = a[:, None, 2] * a[:, None, 3] + b[None, :, 2] * b[None, :, 3] - inter
    return inter / np.maximum(union, 1e-9)


def weighted_nms(scores: np.ndarray, boxes: np.ndarray, kps: np.ndarray, iou: float, source: str) -> list[Detection]:
    """Weighted non-maximum suppression.

    Take the best remaining candidate, gather every remaining candidate overlapping it by more
    than ``iou``, and replace the group by its score-weighted mean box and keypoints (the score
    is the best one's). Neighbouring anchors all fire on one face; their mean is steadier than
    the single best box.
    """
    order = np.argsort(-scores)
    scores, boxes, kps = scores[order], boxes[order], kps[order]
    alive = np.ones(len(scores), bool)
    overlaps = iou_matrix(boxes, boxes) if len(scores) else np.zeros((0, 0))
    found = []
    for i in range(len(scores)):
        if not alive[i]:
            continue
        group = np.nonzero(alive & (overlaps[i] > iou))[0]
        group = group if len(group) else np.array([i])
        alive[group] = False
        weights = scores[group][:, None]
        box = (boxes[group] * weights).sum(axis=0) / weights.sum()
        points = (kps[group] * weights[:, :, None]).sum(axis=0) / weights.sum()
        cx, cy, w, h = (float(v) for v in box)
        found.append(Detection(cx - w / 2, cy - h / 2, w, h, float(scores[i]), points, source))
    return found


def same_face(a: Detection, b: Detection, iou_limit: float = 0.3, nested: float = 0.6) -> bool:
    """Boxes of one face: IoU over ``iou_limit`` or most of the smaller inside the larger."""
    ix = max(0.0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0.0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    if inter <= 0:
        return False
    union = a.area + b.area - inter
    return inter / union > iou_limit or inter / max(1e-9, min(a.area, b.area)) > nested
