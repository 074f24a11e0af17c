"""DiStyleGAN: the student distilled from the teacher's dump (its run: settings, what it may use), or a released
checkpoint to sample.

Rules: ``distylegan_train``, ``training_figures`` (``rules/distylegan.smk``).
"""

from __future__ import annotations

from synthcal.costs import gan_training_minutes
from synthcal.planning import paths
from synthcal.planning.grid import Grid
from synthcal.planning.teacher import gpus
from synthcal.settings import GanTraining, gan_training

#: DiStyleGAN's run (its folder under results/) and how logs and figures name it.
RUN, LABEL = "distylegan", "DiStyleGAN"


class DistillationPlan:
    """DiStyleGAN (see the module docstring)."""

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        self.section = grid.config["distylegan"]
        self.n_dump = 10 * grid.config["teacher"]["n_per_class"]

    def used(self) -> bool:
        return self.grid.generators_used()["distylegan"]

    def trains(self) -> bool:
        """Whether the workflow distils DiStyleGAN (used, and no released checkpoint named)."""
        return self.used() and not self.section["pretrained"]

    def files(self) -> dict[str, str]:
        """The student to sample: the released checkpoint named in config, or the one trained by the workflow."""
        folder = self.section["pretrained"] or paths.DISTYLEGAN_RUN
        return {"generator": f"{folder}/generator.pt", "generator_config": f"{folder}/config.json"}

    def settings(self) -> GanTraining:
        return gan_training(self.section, "distill", self.grid.seed)

    def resources(self) -> dict[str, int]:
        """mem_mb, runtime (from the measured rate, :func:`synthcal.costs.gan_training_minutes`) and gpu."""
        s = self.settings()
        minutes = gan_training_minutes(RUN, self.section["device"], s.generator.ngf, s.objective.ndf,
                                       s.loop.batch_size, self.n_dump, s.loop.epochs)
        return {"mem_mb": 12000, "runtime": minutes, "gpu": gpus(self.section["device"])}
