"""Face and iris landmarks on the candidate's face, head pose (cv2.solvePnP) and gaze angles.

* Face landmarks: MediaPipe's face landmark model (192x192 input, 468 points with a relative
  depth each, plus a face-presence logit) on a square crop 1.5 times the detected box, rotated so
  the detector's two eye keypoints lie on a horizontal line.
* Iris landmarks: MediaPipe's iris model (64x64 input: 71 eye-contour points and 5 iris points)
  on a square crop around each eye, 2.3 times the eye-corner distance, aligned with the corners.
  The model is trained on one eye side; the other eye is mirrored before and after.
* Head pose: cv2.solvePnP of 14 mesh points against a 3D face (``FACE_3D``) with a pinhole
  camera whose focal length is the frame width (a ~53 degree horizontal field of view, typical of
  laptop webcams), giving yaw, pitch and roll in degrees.
* Gaze: the iris centre's offset from the eye centre (middle of the corners, horizontally; middle
  of the lids, vertically), in eye widths, turned into an eyeball rotation with
  ``asin(offset * EYE_WIDTH_IN_RADII)``: an eye is about 2.4 eyeball radii wide (~29 mm / 12 mm).

Angle conventions (image coordinates, as the camera sees the scene): yaw > 0 when the face or the
eyes turn toward the right edge of the frame, pitch > 0 when they turn down, roll > 0 when the
head tilts clockwise in the image.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from core.lazy import lazy_module

cv2 = lazy_module("cv2")  # imported on first use: most processes never need it
np = lazy_module("numpy")

from plugins.proctoring.modelfiles import load_net

MESH_SIZE = 192
IRIS_SIZE = 64
MESH_CROP_SCALE = 1.5
IRIS_CROP_SCALE = 2.3
EYE_WIDTH_IN_RADII = 2.4

# Mesh indices (MediaPipe's canonical face topology) used here. "Right"/"left" are the subject's.
RIGHT_EYE_CORNERS = (33, 133)  # outer, inner: the eye on the image's left
LEFT_EYE_CORNERS = (362, 263)  # inner, outer: the eye on the image's right
RIGHT_EYE_LIDS = (159, 145)  # upper, lower
LEFT_EYE_LIDS = (386, 374)

# Points for solvePnP and their 3D positions. The 3D face is the landmark model's own output
# (x, y and depth, all in crop pixels) averaged over the frontal faces of the tune split, centred
# on the nose tip and scaled to an eye-corner distance of 90 units (the geometry of these faces,
# not a tuned threshold); see scripts/eval_proctoring.py --fit-face-model.
POSE_POINTS = (1, 4, 6, 33, 133, 362, 263, 61, 291, 199, 152, 234, 454, 10)


@dataclass
class FaceLandmarks:
    points: np.ndarray  # (468, 3): x, y in frame pixels, z in the same pixel scale
    presence: float  # 0..1, the model's face-presence score


@dataclass
class EyeLandmarks:
    iris: np.ndarray  # (5, 2) frame pixels: centre then four boundary points
    contour: np.ndarray  # (71, 2) frame pixels
    horizontal: float  # iris offset from the eye centre along the corner line, in eye widths
    vertical: float  # offset from the lids' middle, perpendicular to the corner line, in eye widths


@dataclass
class Pose:
    yaw: float
    pitch: float
    roll: float
    gaze_yaw: float
    gaze_pitch: float
    presence: float
    eye_px: float  # mean eye-corner distance in frame pixels (how much the iris model had to see)


def _crop_transform(center, size: float, angle: float, out: int) -> np.ndarray:
    """2x3 affine matrix from crop pixels (out x out) to frame pixels, for a square crop of side
    ``size`` (frame pixels) centred at ``center`` and rotated by ``angle`` radians."""
    c, s = math.cos(angle), math.sin(angle)
    k = size / out
    cx, cy = center
    # frame = centre + R(angle) . k . (crop - out/2)
    return np.array([
        [k * c, -k * s, cx - k * (c * out / 2 - s * out / 2)],
        [k * s, k * c, cy - k * (s * out / 2 + c * out / 2)],
    ], np.float32)


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points[:, :2] @ matrix[:, :2].T + matrix[:, 2]


class LandmarkModels:
    """The face and iris landmark networks, and what is computed from their outputs."""

    def __init__(self, model_dir: str | None = None):
        self.mesh = load_net("face_landmark.tflite", model_dir)
        self.iris = load_net("iris_landmark.tflite", model_dir)
        self._mesh_out = self.mesh.getUnconnectedOutLayersNames()
        self._iris_out = self.iris.getUnconnectedOutLayersNames()

    def face(self, bgr: np.ndarray, box_px, right_eye_px, left_eye_px) -> FaceLandmarks:
        """Landmarks of the face in ``box_px`` (x, y, w, h); eye keypoints set the rotation."""
        x, y, w, h = box_px
        angle = math.atan2(left_eye_px[1] - right_eye_px[1], left_eye_px[0] - right_eye_px[0])
        size = max(w, h) * MESH_CROP_SCALE
        matrix = _crop_transform((x + w / 2, y + h / 2), size, angle, MESH_SIZE)
        crop = cv2.warpAffine(bgr, matrix, (MESH_SIZE, MESH_SIZE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT)
        blob = cv2.dnn.blobFromImage(crop, 1.0 / 255.0, None, (0, 0, 0), swapRB=True)  # RGB, 0..1
        self.mesh.setInput(blob)
        outputs = dict(zip(self._mesh_out, self.mesh.forward(self._mesh_out)))
        raw, flag = None, None
        for value in outputs.values():
            if value.size == 1404:
                raw = value.reshape(468, 3)
            elif value.size == 1:
                flag = float(value.reshape(-1)[0])
        points = np.empty((468, 3), np.float32)
        points[:, :2] = _apply(matrix, raw)
        points[:, 2] = raw[:, 2] * size / MESH_SIZE
        presence = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, flag))))
        return FaceLandmarks(points, presence)

    def eye(self, bgr: np.ndarray, mesh: np.ndarray, corners, lids, mirror: bool) -> EyeLandmarks:
        """Iris and contour of one eye; ``corners`` are (image-left, image-right) mesh indices."""
        p0, p1 = mesh[corners[0], :2], mesh[corners[1], :2]
        width = float(np.hypot(*(p1 - p0)))
        angle = math.atan2(p1[1] - p0[1], p1[0] - p0[0])
        centre = (p0 + p1) / 2
        matrix = _crop_transform(centre, max(width, 1.0) * IRIS_CROP_SCALE, angle, IRIS_SIZE)
        crop = cv2.warpAffine(bgr, matrix, (IRIS_SIZE, IRIS_SIZE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)
        if mirror:
            crop = cv2.flip(crop, 1)
        blob = cv2.dnn.blobFromImage(crop, 1.0 / 255.0, None, (0, 0, 0), swapRB=True)
        self.iris.setInput(blob)
        outputs = self.iris.forward(self._iris_out)
        contour = next(o for o in outputs if o.size == 213).reshape(71, 3)[:, :2].copy()
        iris = next(o for o in outputs if o.size == 15).reshape(5, 3)[:, :2].copy()
        if mirror:
            contour[:, 0] = IRIS_SIZE - contour[:, 0]
            iris[:, 0] = IRIS_SIZE - iris[:, 0]
        # In the crop the corners lie on the horizontal line through its centre, width apart.
        crop_width = IRIS_SIZE / IRIS_CROP_SCALE
        horizontal = (iris[0, 0] - IRIS_SIZE / 2) / crop_width
        # Vertical: against the middle of the lids (mapped into the crop), still in eye widths.
        inverse = cv2.invertAffineTransform(matrix)
        lid_pts = _apply(inverse, mesh[list(lids), :2])
        vertical = (iris[0, 1] - lid_pts[:, 1].mean()) / crop_width
        return EyeLandmarks(_apply(matrix, iris), _apply(matrix, contour), float(horizontal), float(vertical))


def head_pose(mesh: np.ndarray, frame_w: int, frame_h: int) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from cv2.solvePnP of POSE_POINTS against FACE_3D."""
    image_points = mesh[list(POSE_POINTS), :2].astype(np.float64)
    focal = float(frame_w)
    camera = np.array([[focal, 0, frame_w / 2], [0, focal, frame_h / 2], [0, 0, 1]], np.float64)
    face_3d = np.asarray(FACE_3D, np.float64)
    ok, rvec, tvec = cv2.solvePnP(face_3d, image_points, camera, None, flags=cv2.SOLVEPNP_EPNP)
    if ok:
        ok, rvec, tvec = cv2.solvePnP(face_3d, image_points, camera, None, rvec, tvec, True, cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        return 0.0, 0.0, 0.0
    rotation, _ = cv2.Rodrigues(rvec)
    # FACE_3D axes: x toward the image right, y down, z away from the camera (into the head);
    # the face looks along -z. Its direction in camera coordinates:
    forward = rotation @ np.array([0.0, 0.0, -1.0])
    yaw = math.degrees(math.atan2(forward[0], -forward[2]))
    pitch = math.degrees(math.atan2(forward[1], math.hypot(forward[0], forward[2])))
    right = rotation @ np.array([1.0, 0.0, 0.0])
    roll = math.degrees(math.atan2(right[1], right[0]))
    return yaw, pitch, roll


def gaze_angles(eyes: list[EyeLandmarks]) -> tuple[float, float]:
    """(yaw, pitch) of the eyes in the head, in degrees, averaged over the eyes given."""
    def angle(offset):
        return math.degrees(math.asin(max(-1.0, min(1.0, offset * EYE_WIDTH_IN_RADII))))
    yaw = sum(angle(e.horizontal) for e in eyes) / len(eyes)
    pitch = sum(angle(e.vertical) for e in eyes) / len(eyes)
    return yaw, pitch


def fit_face_model(meshes: list[np.ndarray]) -> np.ndarray:
    """The mean 3D face of frontal meshes: POSE_POINTS centred on the nose tip, the eye line
    turned horizontal, scaled to an outer-eye-corner distance of 90, made symmetric. FACE_3D
    below is its output on the frontal faces of the tune split (scripts/eval_proctoring.py
    --fit-face-model)."""
    shapes = []
    for mesh in meshes:
        points = mesh[list(POSE_POINTS)].astype(np.float64)
        points -= points[0]
        eye = mesh[263] - mesh[33]
        angle = math.atan2(eye[1], eye[0])
        c, s = math.cos(-angle), math.sin(-angle)
        rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
        points = points @ rot.T
        points *= 90.0 / float(np.hypot(eye[0], eye[1]))
        shapes.append(points)
    mean = np.mean(shapes, axis=0)
    # Make it left-right symmetric: mirror pairs share |x|, y and z; midline points get x = 0.
    index = {p: i for i, p in enumerate(POSE_POINTS)}
    for a, b in ((33, 263), (133, 362), (61, 291), (234, 454)):
        i, j = index[a], index[b]
        x, y, z = (abs(mean[i, 0]) + abs(mean[j, 0])) / 2, (mean[i, 1] + mean[j, 1]) / 2, (mean[i, 2] + mean[j, 2]) / 2
        mean[i], mean[j] = (-x, y, z), (x, y, z)
    for p in (1, 4, 6, 199, 152, 10):
        mean[index[p], 0] = 0.0
    return mean


# fit_face_model() on the 36 frontal tune frames whose landmark presence was >= 0.5, in POSE_POINTS order.
# A tuple, not an array: numpy is imported on first use (core.lazy), not when this module is.
FACE_3D = (
    (0.0, 0.0, 0.0),
    (0.0, -6.5, -2.2),
    (0.0, -35.9, 15.7),
    (-45.0, -39.7, 41.2),
    (-17.2, -38.0, 36.1),
    (17.2, -38.0, 36.1),
    (45.0, -39.7, 41.2),
    (-29.0, 23.9, 37.4),
    (29.0, 23.9, 37.4),
    (0.0, 58.2, 28.1),
    (0.0, 68.5, 38.4),
    (-67.9, -22.4, 93.8),
    (67.9, -22.4, 93.8),
    (0.0, -90.3, 23.7),
)
