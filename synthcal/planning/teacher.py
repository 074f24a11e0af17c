"""The teacher: its provider's files, the trained teacher's run (settings, the feature network that helps it, what
it may use), its dump and the dump's quality gate.

Rules: ``teacher_train``, ``teacher_dump``, ``teacher_gate`` (``rules/teacher.smk``).
"""

from __future__ import annotations

from typing import Any

from synthcal.config import teacher_dump_settings
from synthcal.costs import gan_training_minutes
from synthcal.planning import paths
from synthcal.planning.data import DataPlan
from synthcal.planning.grid import Grid
from synthcal.planning.models import ModelsPlan
from synthcal.settings import GanTraining, gan_training

#: The trained teacher's run (its folder under results/) and how logs and figures name it.
RUN, LABEL = "teacher/trained", "teacher (conditional GAN)"


def gpus(device: str) -> int:
    """GPUs a job requests (Slurm --gpus; locally limited by the profile's resources): 1 for device cuda[:n].
    ``auto`` requests none, so on a cluster it runs on CPUs."""
    return 1 if str(device).startswith("cuda") else 0


class TeacherPlan:
    """The teacher (see the module docstring)."""

    def __init__(self, grid: Grid, models: ModelsPlan, data: DataPlan) -> None:
        self.grid, self.models, self.data = grid, models, data
        self.section = grid.config["teacher"]
        self.provider: str = self.section["provider"]

    def used(self) -> bool:
        """Whether the run needs the teacher (its source, or DiStyleGAN distilled from it)."""
        return self.grid.generators_used()["teacher"]

    def files(self) -> dict[str, str]:
        """What the configured provider reads: a pickle (and NVIDIA's code), a .pt2 or TorchScript file, a trained
        run or a dump (a python factory reads no file: its code is in :meth:`code`)."""
        if self.provider == "stylegan2_ada":
            return {"teacher": self.data.pickle_file(),
                    "repo": self.section["stylegan2_ada"]["repo"] or paths.STYLEGAN2_CODE}
        if self.provider == "trained":
            return {"teacher": paths.run_file(RUN, "generator"), "teacher_config": paths.run_file(RUN, "config"),
                    "teacher_training": paths.run_file(RUN, "summary")}
        if self.provider == "python":
            return {}
        return {"teacher": self.section[self.provider]["path"]}

    def code(self) -> dict[str, str]:
        """The fingerprint of a python teacher's factory and the modules it imports (its edits redo the dump)."""
        if self.provider != "python":
            return {}
        return self.models.factory_code(self.section["python"]["factory"], self.section["python"]["python_path"])

    def dump_settings(self) -> dict[str, Any]:
        """The active provider's settings only (:func:`synthcal.config.teacher_dump_settings`)."""
        return teacher_dump_settings(self.grid.config)

    def gate_inputs(self, judges: list[str]) -> list[str]:
        """The label agreement of the teacher's dump with every judge (the teacher's gate)."""
        return [paths.fill(paths.LABEL_AGREEMENT, judge=j, qset=self.grid.teacher_name) for j in judges]

    # ------------------------------------------------------------------------------------------- the trained teacher
    def trains(self) -> bool:
        """Whether the workflow trains the teacher (provider ``trained``, the teacher used)."""
        return self.provider == "trained" and self.used()

    def settings(self) -> GanTraining:
        return gan_training(self.section["trained"], "gan", self.grid.seed)

    def feature_network(self) -> dict[str, Any] | None:
        """The frozen pretrained classifier that helps train the teacher (``teacher.trained.feature_network``), as
        what the job needs to load it: ``classifier`` fields, ``mean``/``std`` and its ``code``; None without one."""
        name = self.section["trained"]["feature_network"]
        if name is None:
            return None
        mean, std = self.grid.mean_std(name)
        return {"model": name, "classifier": self.models.classifier(name), "mean": mean, "std": std,
                "code": self.models.code(name)}

    def train_inputs(self) -> dict[str, str]:
        """What the training job reads beside the real images: the feature network's file (``feature_*`` keys)."""
        helper = self.feature_network()
        return {} if helper is None else {f"feature_{k}": p for k, p in self.models.files(helper["model"]).items()}

    def training_images(self) -> int:
        per_class = self.section["trained"]["images_per_class"]
        return 10 * per_class if per_class else 50_000

    def resources(self) -> dict[str, int]:
        """mem_mb, runtime (from the measured rate, :func:`synthcal.costs.gan_training_minutes`) and gpu."""
        s = self.settings()
        minutes = gan_training_minutes(RUN, self.section["device"], s.generator.ngf, s.objective.ndf,
                                       s.loop.batch_size, self.training_images(), s.loop.epochs)
        return {"mem_mb": 8000, "runtime": minutes, "gpu": gpus(self.section["device"])}
