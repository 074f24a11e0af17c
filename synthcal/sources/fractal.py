"""Fractal calibration images from random iterated function systems (IFS), in the FractalDB style.

Datumaro's generator (which the paper used) was removed in Datumaro 1.12 and always downloaded a 123 MiB
colorization model; this is an independent, vectorized implementation of the same recipe:

1. **Systems.** A category is an IFS of 2-7 affine maps ``(x, y) -> (a x + b y + e, c x + d y + f)`` with all six
   parameters drawn from U(-1, 1) and map probabilities proportional to ``|ad - bc|``. A system is accepted when
   its attractor fills at least ``fill_rate`` (0.2) of a 512x512 render of 100,000 points; otherwise it is redrawn.
2. **Weight variants.** Each system yields 25 variants: its parameters multiplied by ``1`` or by ``1`` with one of
   the six parameter slots changed by ``m * 0.4``, m in {-2, -1, 1, 2} (``weight_variants``).
3. **Grouping.** ``count`` images come from ``ceil(ceil(count/25) / ceil(sqrt(ceil(count/25))))`` systems x 25
   variants x ``ceil(sqrt(ceil(count/25)))`` instances (5,000 images: 14 systems x 25 x 15, truncated).
4. **Chaos game**, vectorized: many independent chains advance in lock-step with numpy, each dropping its first
   ``burn_in`` points; non-finite points are discarded.
5. **Rendering**: points rescaled into ``[pad, size - pad]``; each point paints a random 3x3 binary patch.
6. **Colouring**: a random two-colour gradient on the foreground by default; the Datumaro-faithful colourization
   (Zhang et al.'s Caffe model through OpenCV's dnn module) when the model files are supplied.
7. **Augmentation**: horizontal and vertical flips (p = 0.5 each), rotation U(-30, 30) degrees, a random
   background colour instead of black, Gaussian blur (p = 0.7, kernel size in {3, 5, ..., 15}).

Every image has its own seed, derived from (seed, index), so the output does not depend on the number of
processes.
"""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter
from tqdm import tqdm

from synthcal.calibration import balanced_labels, write_calibration_folder
from synthcal.data import Split
from synthcal.seeding import rng
from synthcal.settings import FractalSettings


@dataclass(frozen=True)
class FractalParameters:
    """Every parameter of the generator: the configured knobs (:class:`synthcal.settings.FractalSettings`) and the
    method's constants (FractalDB / Datumaro)."""

    points: int  # Datumaro: 200,000 at any size; at 32x32 20,000 are ~500 points per attractor pixel
    chains: int
    fill_rate: float
    colorizer_dir: str | None  # Zhang et al.'s Caffe colorizer files; colours are random without them
    size: int = 32
    burn_in: int = 20
    fill_points: int = 100_000
    fill_size: int = 512
    weight_step: float = 0.4
    pad: int = 6
    flip: bool = True
    max_rotation: float = 30.0
    blur_probability: float = 0.7
    max_tries: int = 10_000

    @classmethod
    def of(cls, settings: FractalSettings, **constants: Any) -> FractalParameters:
        """The configured knobs with the method's constants (some overridden, for tests)."""
        return cls(**asdict(settings), **constants)


# ------------------------------------------------------------------------------------------------------ systems
def random_system(gen: np.random.Generator, min_maps: int = 2, max_maps: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """A random IFS: (params (n, 6) as a, b, c, d, e, f in U(-1, 1), probabilities proportional to |ad - bc|)."""
    n = int(gen.integers(min_maps, max_maps + 1))
    params = gen.uniform(-1.0, 1.0, size=(n, 6))
    return params, map_probabilities(params)


def map_probabilities(params: np.ndarray) -> np.ndarray:
    """Probabilities proportional to ``|det| = |ad - bc|`` of each map (a tiny floor keeps every map possible)."""
    det = np.abs(params[:, 0] * params[:, 3] - params[:, 1] * params[:, 2]) + 1e-5
    return det / det.sum()


def weight_variants(step: float = 0.4) -> np.ndarray:
    """The 25 parameter-weight vectors: all ones, and all ones with one slot changed by m*step, m = -2, -1, 1, 2."""
    variants = [np.ones(6)]
    for slot in range(6):
        for m in (-2, -1, 1, 2):
            w = np.ones(6)
            w[slot] += m * step
            variants.append(w)
    return np.stack(variants)


def chaos_game(params: np.ndarray, probs: np.ndarray, n_points: int, gen: np.random.Generator, chains: int = 1000,
               burn_in: int = 20) -> np.ndarray:
    """Points of the IFS attractor, (<= n_points, 2), by ``chains`` independent chains iterated in lock-step."""
    chains = max(1, min(chains, n_points))
    steps = math.ceil(n_points / chains)
    cumulative = np.cumsum(probs)
    cumulative[-1] = 1.0
    choices = np.searchsorted(cumulative, gen.random((steps + burn_in, chains)), side="right")
    xy = gen.uniform(-1.0, 1.0, size=(chains, 2))
    out = np.empty((steps, chains, 2))
    a, b, c, d, e, f = (params[:, k] for k in range(6))
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + burn_in):
            k = choices[t]
            x, y = xy[:, 0], xy[:, 1]
            xy = np.stack((a[k] * x + b[k] * y + e[k], c[k] * x + d[k] * y + f[k]), axis=1)
            if t >= burn_in:
                out[t - burn_in] = xy
    points = out.reshape(-1, 2)[:n_points]
    return points[np.isfinite(points).all(axis=1)]


def occupancy(points: np.ndarray, size: int, pad: int = 0) -> np.ndarray:
    """Boolean (size, size) image of the pixels hit by ``points`` after rescaling into ``[pad, size - pad)``."""
    canvas = np.zeros((size, size), dtype=bool)
    if len(points) == 0:
        return canvas
    ij = _to_pixels(points, size, pad)
    canvas[ij[:, 1], ij[:, 0]] = True
    return canvas


def _to_pixels(points: np.ndarray, size: int, pad: int) -> np.ndarray:
    lo, hi = points.min(axis=0), points.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    scaled = (points - lo) / span * (size - 1 - 2 * pad) + pad
    return np.clip(np.rint(scaled).astype(np.int64), 0, size - 1)


def fill_rate(params: np.ndarray, probs: np.ndarray, gen: np.random.Generator, settings: FractalParameters) -> float:
    """Fraction of a ``fill_size`` x ``fill_size`` render of ``fill_points`` points that the attractor covers."""
    probe = chaos_game(params, probs, settings.chains, gen, settings.chains, settings.burn_in)
    if len(probe) < settings.chains // 2 or np.abs(probe).max() > 1e6:
        return 0.0  # a diverging system, rejected without the full render
    points = chaos_game(params, probs, settings.fill_points, gen, settings.chains, settings.burn_in)
    if len(points) < settings.fill_points // 2:
        return 0.0
    return float(occupancy(points, settings.fill_size).mean())


def search_system(seed: int, category: int, settings: FractalParameters) -> tuple[np.ndarray, np.ndarray, int]:
    """Draw systems for ``category`` until one passes the fill-rate test; returns (params, probs, tries)."""
    gen = rng(seed, "fractal-category", category)
    for tries in range(1, settings.max_tries + 1):
        params, probs = random_system(gen)
        if fill_rate(params, probs, gen, settings) >= settings.fill_rate:
            return params, probs, tries
    raise RuntimeError(f"no IFS with fill rate >= {settings.fill_rate} in {settings.max_tries} tries "
                       f"(category {category}); lower fractal.fill_rate")


def grouping(count: int, variants: int = 25) -> tuple[int, int]:
    """(categories, instances per weight variant) for ``count`` images, as Datumaro groups them."""
    per_variant = math.ceil(count / variants)
    instances = math.ceil(math.sqrt(per_variant))
    return math.ceil(per_variant / instances), instances


# ---------------------------------------------------------------------------------------------------- rendering
def render_patches(points: np.ndarray, size: int, pad: int, gen: np.random.Generator) -> np.ndarray:
    """uint8 (size, size) grey image: every point paints a random 3x3 binary patch (value 127).

    A point's patch is a random non-empty 9-bit mask (randint(1, 512)) around its pixel. Instead of drawing one
    mask per point, each of the 9 neighbours of a pixel hit ``n`` times is painted with probability
    ``1 - (255/511)^n``, the probability that at least one of ``n`` independent masks has that bit set: the same
    images in distribution (up to the weak coupling of bits within one non-empty mask), at a cost independent of
    the number of points.
    """
    canvas = np.zeros((size + 2, size + 2), dtype=np.uint8)  # one pixel of margin for the patches
    if len(points) == 0:
        return canvas[1:-1, 1:-1]
    ij = _to_pixels(points, size, pad)
    hits = np.bincount(ij[:, 1] * size + ij[:, 0], minlength=size * size).reshape(size, size)
    p_paint = 1.0 - (255.0 / 511.0) ** hits
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            paint = gen.random((size, size)) < p_paint
            region = canvas[1 + dy:size + 1 + dy, 1 + dx:size + 1 + dx]
            region[paint] = 127
    return canvas[1:-1, 1:-1]


def colorize_random(grey: np.ndarray, gen: np.random.Generator) -> np.ndarray:
    """RGB image: the foreground coloured with a random two-colour linear gradient (random direction)."""
    size = grey.shape[0]
    c0, c1 = gen.integers(0, 256, size=3), gen.integers(0, 256, size=3)
    angle = gen.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    t = np.clip((np.cos(angle) * (xx - 0.5) + np.sin(angle) * (yy - 0.5)) + 0.5, 0, 1)[..., None]
    colours = (1 - t) * c0 + t * c1
    alpha = (grey.astype(np.float64) / 127.0)[..., None]
    return np.clip(colours * alpha, 0, 255).astype(np.uint8)


class CaffeColorizer:
    """Zhang et al. (2016) colourization through OpenCV's dnn module, as Datumaro did.

    Needs ``opencv-python`` and the three model files in ``directory``: ``colorization_deploy_v2.prototxt``,
    ``colorization_release_v2.caffemodel`` and ``pts_in_hull.npy``.
    """

    FILES = ("colorization_deploy_v2.prototxt", "colorization_release_v2.caffemodel", "pts_in_hull.npy")

    def __init__(self, directory: str | Path) -> None:
        directory = Path(directory)
        missing = [f for f in self.FILES if not (directory / f).is_file()]
        if missing:
            raise FileNotFoundError(f"fractal colorizer files missing in {directory}: {', '.join(missing)} "
                                    "(set fractal.colorizer_dir to a folder holding all three, or null)")
        try:
            import cv2
        except ImportError as exc:
            raise ImportError("the Caffe colorizer needs OpenCV: pip install opencv-python-headless") from exc
        self.cv2 = cv2
        self.net = cv2.dnn.readNetFromCaffe(str(directory / self.FILES[0]), str(directory / self.FILES[1]))
        hull = np.load(directory / self.FILES[2]).transpose().reshape(2, 313, 1, 1)
        self.net.getLayer(self.net.getLayerId("class8_ab")).blobs = [hull.astype(np.float32)]
        self.net.getLayer(self.net.getLayerId("conv8_313_rh")).blobs = [np.full([1, 313], 2.606, np.float32)]

    def __call__(self, grey: np.ndarray) -> np.ndarray:
        cv2 = self.cv2
        bgr = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR).astype(np.float32) / 255.0
        lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB)
        l_in = cv2.resize(lab[:, :, 0], (224, 224)) - 50
        self.net.setInput(cv2.dnn.blobFromImage(l_in))
        ab = self.net.forward()[0].transpose((1, 2, 0))
        ab = cv2.resize(ab, (grey.shape[1], grey.shape[0]))
        out = cv2.cvtColor(np.concatenate((lab[:, :, :1], ab), axis=2), cv2.COLOR_LAB2RGB)
        out = (out - out.min()) / max(out.max() - out.min(), 1e-8)
        return (out * 255).astype(np.uint8)


def augment(rgb: np.ndarray, gen: np.random.Generator, settings: FractalParameters) -> np.ndarray:
    """Flips, a random background colour instead of black, rotation, Gaussian blur (Datumaro's augmentations).

    The background is filled before rotating (and the rotation fills with the same colour), so that no dark seam
    is interpolated around the fractal.
    """
    img = rgb
    if settings.flip and gen.random() < 0.5:
        img = img[:, ::-1]
    if settings.flip and gen.random() < 0.5:
        img = img[::-1]
    background = tuple(int(v) for v in gen.integers(0, 256, size=3))
    arr = np.ascontiguousarray(img).copy()
    arr[arr.max(axis=2) == 0] = background
    angle = gen.uniform(-settings.max_rotation, settings.max_rotation)
    pil = Image.fromarray(arr).rotate(angle, resample=Image.BILINEAR, fillcolor=background)
    if gen.random() < settings.blur_probability:
        kernel = int(gen.choice(np.arange(3, 16, 2)))
        sigma = 0.3 * ((kernel - 1) * 0.5 - 1) + 0.8  # OpenCV's sigma for a kernel size
        pil = pil.filter(ImageFilter.GaussianBlur(radius=sigma))
    return np.asarray(pil)


# ---------------------------------------------------------------------------------------------------- the set
@dataclass(frozen=True)
class _Job:
    index: int
    params: np.ndarray
    probs: np.ndarray
    seed: int
    settings: FractalParameters


def _colorizer(settings: FractalParameters) -> CaffeColorizer | None:
    return CaffeColorizer(settings.colorizer_dir) if settings.colorizer_dir else None


_COLORIZER: CaffeColorizer | None = None


def _init_worker(settings: FractalParameters) -> None:
    global _COLORIZER
    _COLORIZER = _colorizer(settings)


def _search(args: tuple[int, int, FractalParameters]) -> tuple[np.ndarray, np.ndarray, int]:
    return search_system(*args)


def render_image(job: _Job) -> np.ndarray:
    """One fractal image (uint8 RGB): chaos game, patches, colour, augmentation, all seeded by the image index."""
    s = job.settings
    gen = rng(job.seed, "fractal-image", job.index)
    points = chaos_game(job.params, job.probs, s.points, gen, s.chains, s.burn_in)
    grey = render_patches(points, s.size, s.pad, gen)
    rgb = _COLORIZER(grey) if _COLORIZER is not None else colorize_random(grey, gen)
    return augment(rgb, gen, s)


def generate_fractals(count: int, seed: int, settings: FractalParameters, workers: int = 1,
                      progress: bool = True) -> tuple[np.ndarray, dict]:
    """``count`` fractal images (uint8 NHWC) and a report (systems, tries, grouping, colouring)."""
    categories, instances = grouping(count)
    variants = weight_variants(settings.weight_step)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            systems = list(tqdm(pool.map(_search, [(seed, c, settings) for c in range(categories)]),
                                total=categories, desc="fractal systems", disable=not progress))
    else:
        systems = [search_system(seed, c, settings) for c in
                   tqdm(range(categories), desc="fractal systems", disable=not progress)]
    jobs = []
    for i in range(count):
        c, rest = divmod(i, len(variants) * instances)
        params = systems[c][0] * variants[rest // instances]
        jobs.append(_Job(i, params, map_probabilities(params), seed, settings))
    images = np.empty((count, settings.size, settings.size, 3), dtype=np.uint8)
    if workers > 1:
        with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(settings,)) as pool:
            for i, img in enumerate(tqdm(pool.map(render_image, jobs, chunksize=32), total=count,
                                         desc="fractal images", unit="img", disable=not progress)):
                images[i] = img
    else:
        _init_worker(settings)
        for i, job in enumerate(tqdm(jobs, desc="fractal images", unit="img", disable=not progress)):
            images[i] = render_image(job)
    report = {"categories": categories, "instances": instances, "weight_variants": len(variants),
              "tries": [t for _, _, t in systems], "maps_per_system": [len(p) for p, _, _ in systems],
              "colorize": "caffe" if settings.colorizer_dir else "random",
              "settings": {k: v for k, v in settings.__dict__.items()}}
    return images, report


def colouring(colorizer_dir: str | Path | None) -> str:
    """How the fractals are coloured, as the tables state it: Datumaro's colourizer or the gradient fallback."""
    if colorizer_dir:
        return "Datumaro's colourizer (Zhang et al.'s Caffe model)"
    return "random two-colour gradient (fallback: no colourizer files, not Datumaro's colouring)"


def fractal_calibration_folder(root: str | Path, n_per_class: int, seed: int,
                               settings: FractalParameters, workers: int = 1) -> dict:
    """The ``fractal`` source: ``10 * n_per_class`` fractals written as a calibration folder. The labels are
    arbitrary: consecutive images fill folder 0, then 1, ... (the paper's 10 folders of 500)."""

    images, report = generate_fractals(10 * n_per_class, seed, settings, workers=workers)
    return write_calibration_folder(root, Split(images, balanced_labels(n_per_class)), {
        "source": "fractal", "seed": seed, "n_per_class": n_per_class,
        "description": f"IFS fractals, {colouring(settings.colorizer_dir)}",
        "labels": "arbitrary (consecutive images fill folders in class order)", **report})
