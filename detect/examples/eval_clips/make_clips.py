"""Writes the synthetic evaluation clips of `eval_camera --truth` and their per-frame truth.

    python3 detect/examples/eval_clips/make_clips.py [OUT_DIR]     # default /tmp/reframe-eval

Needs numpy, pillow and scikit-image (the conversion venv, models/convert/requirements.txt, has
them) and ffmpeg. Each clip is a real photo of a person, annotated once by hand (the boxes below,
in the photo's pixels), moved and scaled over a plain, slightly noisy background frame by frame;
the truth of every frame is the hand box under the same transform, so it is exact to the
annotation. The clips differ in size, lighting, people and motion:

- astronaut: 1280x720, scikit-image's `astronaut` (NASA portrait, public domain), upper body and
  face; still large, then walking right while shrinking to about a tenth of the frame height,
  still small, then walking back.
- messi: 1920x1080, darker, OpenCV's `messi5.jpg` (a footballer in a blurred crowd); starts small
  at the left, still, then grows and moves to the centre, still.
- basketball: 640x480, OpenCV's `basketball1.png` (two people: the left one faces the camera, the
  right one is turned away and cut by the frame edge, as in an over-the-shoulder shot); a still
  shot with sensor noise: the camera must not move, and must frame the left person.

Two people who matter equally (their truth has a `second` person; a split screen should show both):

- pair: 1920x1080, the astronaut (left) and scikit-image's `camera` (a cameraman in profile,
  right), far apart and still: no single 9:16 crop shows both.
- meet: 1280x720, dim, the cameraman (left) and the basketball player (right) apart, then the
  player walks over to stand next to him (both fit in one crop), stays, and walks back.
- duo: 1920x1080, warm, the basketball player large at the left and the footballer (cut out of
  `messi5.jpg`) at the right, both still.

Megamind (`megamind.truth.json`) is real animated footage with cuts; its truth was written by hand
at keyframes, not by this script.
"""

import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

OPENCV = "/usr/share/doc/opencv-doc/examples/data"
HERE = os.path.dirname(os.path.abspath(__file__))

# Hand annotations in each photo's own pixels: (x0, y0, x1, y1) of the person and of the face
# (forehead to chin, cheek to cheek).
PHOTOS = {
    "astronaut": {"person": (20, 15, 370, 512), "face": (178, 60, 248, 162)},
    "messi": {"person": (70, 60, 455, 335), "face": (210, 68, 256, 128)},
    "basketball": {"person": (35, 80, 165, 475), "face": (62, 85, 105, 140)},
    "camera": {"person": (0, 62, 330, 512), "face": (175, 100, 255, 200)},
}

# Cut-outs of a photo used in the two-person clips, (x0, y0, x1, y1) in the photo's pixels: the
# person with a little of the background, so that the clip shows that person only.
CUTOUTS = {"basketball": (15, 60, 185, 480), "messi": (40, 30, 480, 342)}


def load(name):
    if name in ("astronaut", "camera"):
        import skimage.data

        return Image.fromarray(getattr(skimage.data, name)()).convert("RGB")
    if name == "messi":
        return Image.open(f"{OPENCV}/messi5.jpg").convert("RGB")
    return Image.open(f"{OPENCV}/basketball1.png").convert("RGB")


def lerp(a, b, u):
    return a + (b - a) * u


def keyed(frame, keys):
    """Piecewise-linear value at `frame` of [(frame, value), ...]."""
    for (f0, v0), (f1, v1) in zip(keys, keys[1:]):
        if f0 <= frame <= f1:
            u = 0.0 if f1 == f0 else (frame - f0) / (f1 - f0)
            return tuple(lerp(a, b, u) for a, b in zip(v0, v1))
    return keys[-1][1]


def write_clip(out_dir, name, size, frames, place, background, gain=1.0, noise=4.0, stills=(), people=None):
    """place(frame) -> (x, y, height) of the photo in the clip; truth follows the same transform.

    `people`, for clips of several people: [(photo name, place), ...], pasted in that order; the
    first is the truth's subject (`keys`), the second its `second`."""
    people = people or [(name, place)]
    photos = []
    for photo_name, photo_place in people:
        photo, ann = load(photo_name), dict(PHOTOS[photo_name])
        if photo_name in CUTOUTS and len(people) > 1:
            c = CUTOUTS[photo_name]
            photo = photo.crop(c)
            ann = {k: (b[0] - c[0], b[1] - c[1], b[2] - c[0], b[3] - c[1]) for k, b in ann.items()}
        photos.append((photo, ann, photo_place))
    w, h = size
    rng = np.random.default_rng(7)
    path = os.path.join(out_dir, f"{name}.mp4")
    ff = subprocess.Popen(
        ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", "30",
         "-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", path],
        stdin=subprocess.PIPE)
    keys = [[] for _ in photos]
    for n in range(frames):
        frame = np.empty((h, w, 3), np.float32)
        frame[:] = background
        for k, (photo, ann, photo_place) in enumerate(photos):
            x, y, ph = photo_place(n)
            pw = max(1, round(photo.width * ph / photo.height))
            ph = max(1, round(ph))
            img = np.asarray(photo.resize((pw, ph), Image.BILINEAR), np.float32)
            x0, y0 = round(x), round(y)
            # Paste, clipped to the frame.
            sx0, sy0 = max(0, -x0), max(0, -y0)
            dx0, dy0 = max(0, x0), max(0, y0)
            dx1, dy1 = min(w, x0 + pw), min(h, y0 + ph)
            if dx1 > dx0 and dy1 > dy0:
                frame[dy0:dy1, dx0:dx1] = img[sy0 : sy0 + dy1 - dy0, sx0 : sx0 + dx1 - dx0]

            def tr(b):
                sx, sy = pw / photo.width, ph / photo.height
                r = [x0 + b[0] * sx, y0 + b[1] * sy, x0 + b[2] * sx, y0 + b[3] * sy]
                r = [min(max(r[0], 0), w), min(max(r[1], 0), h), min(max(r[2], 0), w), min(max(r[3], 0), h)]
                return [round(v, 1) for v in r]

            keys[k].append([n, tr(ann["person"]), tr(ann["face"])])
        frame = frame * gain + rng.normal(0.0, noise, frame.shape)
        ff.stdin.write(np.clip(frame, 0, 255).astype(np.uint8).tobytes())
    ff.stdin.close()
    assert ff.wait() == 0, "ffmpeg failed"
    shot = {"first": 0, "last": frames - 1, "keys": keys[0], "still": [list(s) for s in stills]}
    if len(keys) > 1:
        shot["second"] = keys[1]
    shots = [shot]
    truth = {"clip": name, "input": path, "size": [w, h], "shots": shots}
    with open(os.path.join(out_dir, f"{name}.truth.json"), "w") as f:
        json.dump(truth, f)
    print(path, frames, "frames")


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "/tmp/reframe-eval"
    os.makedirs(out_dir, exist_ok=True)

    # astronaut: still large (0-59), walks right shrinking to 12% of the height (60-179), still
    # small (180-239), walks back left (240-299).
    a_keys = [(0, (100, 36, 648)), (59, (100, 36, 648)), (179, (1100, 560, 86)), (239, (1100, 560, 86)),
              (299, (300, 560, 86))]
    write_clip(out_dir, "astronaut", (1280, 720), 300, lambda n: keyed(n, a_keys), (112, 120, 128),
               stills=[(0, 59), (180, 239)])

    # messi: small (0.15 of the height) at the left and still (0-59), grows to 0.6 moving to the
    # centre (60-209), still (210-299); a darker, warmer picture.
    m_keys = [(0, (150, 700, 162)), (59, (150, 700, 162)), (209, (700, 300, 648)), (299, (700, 300, 648))]
    write_clip(out_dir, "messi", (1920, 1080), 300, lambda n: keyed(n, m_keys), (40, 36, 30), gain=0.6,
               stills=[(0, 59), (210, 299)])

    # basketball: the photo fills the frame; a still shot with noise.
    write_clip(out_dir, "basketball", (640, 480), 150, lambda n: (0, 0, 480), (0, 0, 0), noise=3.0,
               stills=[(0, 149)])

    # pair: the astronaut (left, the subject) and the cameraman (right), apart and still for 6 s.
    write_clip(out_dir, "pair", (1920, 1080), 180, None, (150, 156, 160), stills=[(0, 179)],
               people=[("astronaut", lambda n: (80, 400, 600)), ("camera", lambda n: (1280, 420, 620))])

    # meet: the cameraman (left, the subject) stands; the player stands apart (0-59), walks over
    # to stand right next to him (60-149), stays (150-239), walks back (240-299). Dim.
    p_keys = [(0, (1000, 380, 300)), (59, (1000, 380, 300)), (149, (330, 380, 300)), (239, (330, 380, 300)),
              (299, (1000, 380, 300))]
    write_clip(out_dir, "meet", (1280, 720), 300, None, (60, 64, 70), gain=0.7, stills=[(0, 59)],
               people=[("camera", lambda n: (150, 380, 300)), ("basketball", lambda n: keyed(n, p_keys))])

    # duo: the player (left, large, the subject) and the footballer (right), still; warm light.
    write_clip(out_dir, "duo", (1920, 1080), 150, None, (90, 70, 50), gain=0.85, stills=[(0, 149)],
               people=[("basketball", lambda n: (120, 140, 930)), ("messi", lambda n: (1120, 380, 520))])


if __name__ == "__main__":
    main()
