"""Build the labelled proctoring evaluation set in tests/data/proctoring/.

Source photos come only from openly licensed images shipped inside PyPI packages (see
tests/data/proctoring/SOURCES.md). They are read either from the installed packages or,
without installing anything, straight from downloaded wheels:

    pip download --no-deps -d /tmp/wheels scikit-image==0.26.0 matplotlib==3.11.2 \
        mahotas==1.4.19 scikit-learn==1.9.1
    .venv/bin/python scripts/make_proctoring_set.py --wheels /tmp/wheels

Every frame is a 640x480 JPEG composed deterministically (fixed seed, fixed recipe); the
labels are written to labels.json from the recipe, and were checked by looking at the
frames. Re-running the script reproduces the same files with the same OpenCV build.
"""
from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import os
import sys
import zipfile

import cv2
import numpy as np

WIDTH, HEIGHT = 640, 480
JPEG_QUALITY = 80
OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "proctoring")

# name -> (package, path inside the package)
SOURCES = {
    "astronaut": ("skimage", "data/astronaut.png"),
    "camera": ("skimage", "data/camera.png"),
    "coffee": ("skimage", "data/coffee.png"),
    "brick": ("skimage", "data/brick.png"),
    "rocket": ("skimage", "data/rocket.jpg"),
    "chelsea": ("skimage", "data/chelsea.png"),
    "hubble": ("skimage", "data/hubble_deep_field.jpg"),
    "coins": ("skimage", "data/coins.png"),
    "text": ("skimage", "data/text.png"),
    "grass": ("skimage", "data/grass.png"),
    "gravel": ("skimage", "data/gravel.png"),
    "hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
    "luispedro": ("mahotas", "demos/data/luispedro.jpg"),
    "china": ("sklearn", "datasets/images/china.jpg"),
    "flower": ("sklearn", "datasets/images/flower.jpg"),
}

# Face boxes (x, y, w, h) in the source photos, measured once by hand-checked detection.
FACE_BOXES = {
    "astronaut": (177, 67, 93, 93),
    "hopper": (149, 100, 231, 231),
    "luispedro": (8, 84, 197, 197),
    "camera": (185, 111, 82, 82),  # profile, facing the right edge of the image
}


def load_sources(wheel_dir: str | None) -> dict[str, np.ndarray]:
    """Read every source image from the wheels in wheel_dir, or from installed packages."""
    images = {}
    for name, (package, inner) in SOURCES.items():
        data = _read_from_wheel(wheel_dir, package, inner) if wheel_dir else _read_installed(package, inner)
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            sys.exit(f"cannot decode {package}/{inner}")
        images[name] = image
    return images


def _read_from_wheel(wheel_dir: str, package: str, inner: str) -> bytes:
    dist = {"skimage": "scikit_image", "sklearn": "scikit_learn"}.get(package, package)
    wheels = sorted(glob.glob(os.path.join(wheel_dir, f"{dist}-*.whl")))
    if not wheels:
        sys.exit(f"no {dist} wheel in {wheel_dir}")
    with zipfile.ZipFile(wheels[-1]) as archive:
        return archive.read(f"{package}/{inner}")


def _read_installed(package: str, inner: str) -> bytes:
    spec = importlib.util.find_spec(package)  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"package {package} is not installed; pass --wheels DIR instead")
    with open(os.path.join(spec.submodule_search_locations[0], inner), "rb") as handle:
        return handle.read()


# ---------------------------------------------------------------- composition helpers

def cover(image: np.ndarray, blur: float = 0.0) -> np.ndarray:
    """Scale and centre-crop an image to fill 640x480, optionally defocused."""
    h, w = image.shape[:2]
    scale = max(WIDTH / w, HEIGHT / h)
    resized = cv2.resize(image, (int(np.ceil(w * scale)), int(np.ceil(h * scale))), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
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


def paste_person(canvas: np.ndarray, photo: np.ndarray, face_box, face_width: float, cx: float, cy: float, mirror: bool = False) -> None:
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
    # Where the face centre lands, and the cut-out's top-left corner on the canvas.
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


def finish(image: np.ndarray, rng: np.random.Generator, gain: float = 1.0, noise: float = 2.5, blur: float = 0.0) -> np.ndarray:
    """Camera effects: exposure gain, defocus blur and sensor noise."""
    out = image.astype(np.float32) * gain
    if blur:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    out += rng.normal(0, noise, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- the recipe

def build(src: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray, list[str], str, dict]]:
    """Return (file, image, violations, note, extra labels) for every frame of the set."""
    rng = np.random.default_rng(20240611)
    frames = []

    def add(name, image, violations, note, **extra):
        frames.append((name, image, sorted(violations), note, extra))

    backgrounds = {
        "wall": lambda: wall(rng),
        "wallblue": lambda: wall(rng, (215, 190, 170)),
        "brick": lambda: cover(src["brick"], blur=2.0),
        "china": lambda: cover(src["china"], blur=4.0),
        "coffee": lambda: cover(src["coffee"], blur=6.0),
    }

    def person(bg, *people, gain=1.0, blur=0.0, noise=2.5):
        canvas = backgrounds[bg]()
        for who, size, cx, cy, mirror in people:
            paste_person(canvas, src[who], FACE_BOXES[who], size, cx, cy, mirror)
        return finish(canvas, rng, gain=gain, blur=blur, noise=noise)

    # One candidate facing the camera: sizes, positions, backgrounds, mirror, exposure.
    clean = [
        ("astronaut", 0.22, 0.50, 0.40, False, "wall", 1.0),
        ("astronaut", 0.30, 0.45, 0.42, False, "brick", 1.0),
        ("astronaut", 0.38, 0.55, 0.45, True, "china", 1.0),
        ("astronaut", 0.26, 0.50, 0.38, True, "wallblue", 1.0),
        ("astronaut", 0.18, 0.42, 0.35, False, "coffee", 1.0),
        ("astronaut", 0.32, 0.58, 0.44, False, "wall", 0.8),
        ("astronaut", 0.28, 0.50, 0.40, False, "china", 1.2),
        ("astronaut", 0.24, 0.35, 0.40, True, "brick", 0.9),
        ("astronaut", 0.34, 0.50, 0.50, False, "wallblue", 1.1),
        ("astronaut", 0.20, 0.62, 0.36, True, "wall", 1.0),
        ("hopper", 0.22, 0.50, 0.40, False, "wall", 1.0),
        ("hopper", 0.30, 0.45, 0.42, False, "brick", 1.0),
        ("hopper", 0.38, 0.55, 0.45, True, "china", 1.0),
        ("hopper", 0.26, 0.50, 0.38, True, "wallblue", 1.0),
        ("hopper", 0.18, 0.42, 0.35, False, "coffee", 1.0),
        ("hopper", 0.32, 0.58, 0.44, False, "wall", 0.8),
        ("hopper", 0.28, 0.50, 0.40, False, "china", 1.2),
        ("hopper", 0.24, 0.35, 0.40, True, "brick", 0.9),
        ("hopper", 0.34, 0.50, 0.50, False, "wallblue", 1.1),
        ("hopper", 0.20, 0.62, 0.36, True, "wall", 1.0),
    ]
    for i, (who, size, cx, cy, mirror, bg, gain) in enumerate(clean, 1):
        add(f"clean_{who}_{i:02d}.jpg", person(bg, (who, size, cx, cy, mirror), gain=gain), [],
            f"{who} facing the camera, face {size:.0%} of the width, on {bg}" + (", mirrored" if mirror else "") + (f", exposure x{gain}" if gain != 1 else ""))

    # Defocused but otherwise fine frames: blur is reported, it is not a violation.
    for i, (who, sigma, bg) in enumerate([("astronaut", 3.0, "wall"), ("hopper", 3.0, "brick"), ("astronaut", 5.0, "china"), ("hopper", 5.0, "wallblue")], 1):
        add(f"blurred_{who}_{i:02d}.jpg", person(bg, (who, 0.28, 0.5, 0.4, False), blur=sigma), [],
            f"{who} facing the camera, defocused (Gaussian sigma {sigma}px)", blurry=True)

    # Head turned / eyes off the screen.
    away = [
        ("camera", 0.22, 0.50, 0.40, False, "wall"),
        ("camera", 0.30, 0.45, 0.42, True, "brick"),
        ("camera", 0.26, 0.55, 0.40, False, "china"),
        ("camera", 0.20, 0.50, 0.38, True, "wallblue"),
        ("camera", 0.34, 0.50, 0.45, False, "coffee"),
        ("luispedro", 0.30, 0.50, 0.45, False, "wall"),
        ("luispedro", 0.26, 0.45, 0.42, True, "brick"),
        ("luispedro", 0.34, 0.55, 0.45, False, "china"),
    ]
    for i, (who, size, cx, cy, mirror, bg) in enumerate(away, 1):
        what = "head in profile" if who == "camera" else "head turned three-quarters, eyes off to the side"
        add(f"away_{who}_{i:02d}.jpg", person(bg, (who, size, cx, cy, mirror)), ["looking_away"],
            f"{who}: {what}" + (", mirrored" if mirror else ""))

    # More than one person in view.
    pairs = [
        ("wall", [("astronaut", 0.20, 0.27, 0.40, False), ("hopper", 0.20, 0.73, 0.40, False)], []),
        ("brick", [("hopper", 0.22, 0.28, 0.42, True), ("astronaut", 0.22, 0.72, 0.42, True)], []),
        ("china", [("astronaut", 0.18, 0.25, 0.38, False), ("astronaut", 0.18, 0.75, 0.38, True)], []),
        ("wallblue", [("hopper", 0.19, 0.27, 0.40, False), ("hopper", 0.19, 0.73, 0.40, True)], []),
        ("wall", [("astronaut", 0.30, 0.40, 0.45, False), ("hopper", 0.13, 0.85, 0.25, False)], []),
        ("coffee", [("hopper", 0.30, 0.60, 0.45, False), ("astronaut", 0.13, 0.15, 0.25, True)], []),
        ("wall", [("astronaut", 0.23, 0.28, 0.40, False), ("luispedro", 0.18, 0.72, 0.42, False)], []),
        ("brick", [("hopper", 0.23, 0.28, 0.40, False), ("camera", 0.18, 0.72, 0.40, True)], []),
        ("wall", [("astronaut", 0.16, 0.18, 0.40, False), ("hopper", 0.16, 0.50, 0.40, False), ("astronaut", 0.16, 0.82, 0.40, True)], []),
        ("china", [("hopper", 0.17, 0.20, 0.40, True), ("astronaut", 0.17, 0.50, 0.42, False), ("hopper", 0.17, 0.80, 0.40, False)], []),
    ]
    for i, (bg, people, extra) in enumerate(pairs, 1):
        names = " + ".join(p[0] for p in people)
        add(f"multi_{i:02d}.jpg", person(bg, *people), ["multiple_faces", *extra],
            f"{len(people)} people ({names}) on {bg}; the largest face is the candidate")

    # Nobody in view (scenes, textures, a cat, text, an empty wall).
    empty = ["coffee", "china", "flower", "rocket", "brick", "grass", "gravel", "hubble", "chelsea", "coins", "text"]
    for scene in empty:
        # The Hubble deep field is a mostly black frame: too dark as well as empty.
        violations = ["no_face", "low_light"] if scene == "hubble" else ["no_face"]
        add(f"empty_{scene}.jpg", finish(cover(src[scene]), rng), violations,
            f"no person: {scene} scene" + (" (mostly black)" if scene == "hubble" else ""))
    add("empty_wall.jpg", finish(wall(rng), rng), ["no_face"], "no person: empty room wall")
    add("empty_flower_blurred.jpg", finish(cover(src["flower"]), rng, blur=5.0), ["no_face"],
        "no person: flower scene, defocused", blurry=True)

    # A covered lens: near-uniform frames.
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    vignette = 1.0 - 0.35 * (((x - WIDTH / 2) / WIDTH) ** 2 + ((y - HEIGHT / 2) / HEIGHT) ** 2)
    blocked = [
        ("dark", np.full((HEIGHT, WIDTH, 3), 10, np.float32), 3.0, "lens covered: almost black"),
        ("black", np.full((HEIGHT, WIDTH, 3), 3, np.float32), 1.5, "lens covered: black"),
        ("finger", np.dstack([vignette * 30, vignette * 38, vignette * 70]), 3.0, "lens covered by a finger: dark red glow"),
        ("paper", np.dstack([vignette * 205] * 3), 2.0, "lens covered by paper: bright and uniform"),
        ("tape", np.dstack([vignette * 95, vignette * 100, vignette * 105]), 2.5, "lens covered by grey tape"),
        ("palm", np.dstack([vignette * 60, vignette * 80, vignette * 120]), 4.0, "lens covered by a palm: dim skin tone"),
    ]
    for name, base, noise, note in blocked:
        add(f"blocked_{name}.jpg", finish(base, rng, noise=noise, blur=0), ["camera_blocked"], note)

    # Too little light, person still there.
    dark = [("astronaut", 0.28, "wall", 0.22), ("hopper", 0.28, "brick", 0.20), ("astronaut", 0.34, "china", 0.15), ("hopper", 0.24, "wall", 0.16)]
    for i, (who, size, bg, gain) in enumerate(dark, 1):
        add(f"dark_{who}_{i:02d}.jpg", person(bg, (who, size, 0.5, 0.42, False), gain=gain, noise=2.0), ["low_light"],
            f"{who} facing the camera in a dim room (exposure x{gain})")
    add("dark_empty_room.jpg", finish(cover(src["china"]), rng, gain=0.15, noise=2.0), ["low_light", "no_face"],
        "no person, dim scene")
    return frames


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheels", help="folder with the downloaded wheels (default: use installed packages)")
    parser.add_argument("--out", default=OUT_DIR, help="output folder (default: tests/data/proctoring)")
    args = parser.parse_args(argv)
    frames = build(load_sources(args.wheels))
    os.makedirs(args.out, exist_ok=True)
    for stale in glob.glob(os.path.join(args.out, "*.jpg")):
        os.remove(stale)
    labels = {}
    for name, image, violations, note, extra in frames:
        assert image.shape == (HEIGHT, WIDTH, 3), name
        cv2.imwrite(os.path.join(args.out, name), image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        labels[name] = {"violations": violations, "clean": not violations, "note": note, **extra}
    with open(os.path.join(args.out, "labels.json"), "w") as handle:
        json.dump(labels, handle, indent=1, sort_keys=True)
        handle.write("\n")
    total = sum(os.path.getsize(os.path.join(args.out, n)) for n in labels)
    print(f"wrote {len(labels)} frames ({total / 1024:.0f} KiB) and labels.json to {args.out}")


if __name__ == "__main__":
    main()
