# The configuration, validated once against synthcal/schemas/config.schema.yaml; the plan every rule asks, one planner
# per stage (synthcal.planning: PLAN.models, PLAN.quantization, ...), and every path from synthcal.planning.paths;
# the cost of the run, printed before it starts; and the few input functions the rules share.
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

from synthcal.codedeps import script_fingerprint
from synthcal.config import ConfigError, check_local_paths, resolve_fallbacks, validate_config
from synthcal.costs import estimate, format_estimate
from synthcal.machine import package_versions, version_changes
from synthcal.planning import Plan, paths
from synthcal.settings import to_params

try:
    validate_config(config)
    FALLBACKS = resolve_fallbacks(config)
    check_local_paths(config)
except ConfigError as exc:
    raise WorkflowError(f"invalid configuration: {exc}") from None

ROOT = Path(workflow.basedir)
PLAN = Plan(config, ROOT)
VERSIONS = package_versions()
CHANGED = version_changes(paths.VERSIONS, VERSIONS, config["versions"]["on_change"])

if config["cost"]["print"] and workflow.is_main_process:  # the cost before the run, also under --dry-run
    # a cluster run (--jobs, no --cores) gets the time in series on one core: its jobs run side by side on nodes
    CORES = workflow.resource_settings.cores
    SERIAL = [] if CORES else ["no --cores given (a cluster run?): the time is for one core in series"]
    print(format_estimate(estimate(PLAN, CORES or 1), CORES or 1, config["cost"]["warn_hours"],
                          FALLBACKS + PLAN.notices() + CHANGED + SERIAL), file=sys.stderr)


wildcard_constraints:
    model="[A-Za-z0-9_]+",
    source="[A-Za-z0-9_]+",
    algorithm="|".join(PLAN.quantization.catalogue),
    variant=PLAN.quantization.variant_pattern(),
    rep=r"(|\.r[0-9]+)",


def script_code(script):
    """The `code` parameter of a job, from synthcal.codedeps: one hash per file the script runs (the script and the
    library modules it imports, transitively), each of the code without comments and docstrings, so that an edit of
    behaviour reruns the job and a comment does not (`python -m synthcal.codedeps` lists them); with
    `versions.on_change: rerun`, also the versions of torch, NNCF, OpenVINO and numpy."""
    code = script_fingerprint(ROOT / "workflow_scripts" / script, ROOT)
    return {**code, "versions": VERSIONS} if config["versions"]["on_change"] == "rerun" else code


def mean_std(wildcards):
    return PLAN.grid.mean_std(wildcards.model)


def model_files(wildcards):
    return PLAN.models.files(wildcards.model)


def classifier(wildcards):
    return PLAN.models.classifier(wildcards.model)


def model_code(wildcards):
    """The code a job runs when it builds the model: its architecture's or factory's modules."""
    return PLAN.models.code(wildcards.model)


def rep_seed(wildcards):
    return PLAN.grid.rep_seed(wildcards.rep)


def rep_index(wildcards):
    return PLAN.grid.rep_index(wildcards.rep)
