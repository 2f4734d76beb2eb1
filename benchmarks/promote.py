"""Promote an image with ~200 MB of layers: registry-side (build-push's promote) versus
the usual `docker pull` + `docker tag` + `docker push`, side by side in one run, against
the local registry of scripts/services (127.0.0.1:5000)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

from deploy_actions.images.promote import promote  # noqa: E402
from deploy_actions.images.registry import Registry  # noqa: E402

REGISTRY = os.environ.get("DA_REGISTRY", "127.0.0.1:5000")
LAYERS = 4
LAYER_MB = 50


def docker(*args: str) -> None:
    subprocess.run(["docker", *args], check=True, capture_output=True)


def main() -> dict:
    run = uuid.uuid4().hex[:8]
    source, target, baseline = (f"bench-{run}/{name}" for name in ("source", "promoted", "baseline"))
    with tempfile.TemporaryDirectory() as context:
        shutil.copy("/bin/busybox", Path(context) / "busybox")
        lines = ["FROM scratch", "COPY busybox /bin/busybox"]
        for i in range(LAYERS):  # random bytes: incompressible, so the layers really are ~200 MB
            (Path(context) / f"blob{i}").write_bytes(os.urandom(LAYER_MB * 1024 * 1024))
            lines.append(f"COPY blob{i} /data/blob{i}")
        (Path(context) / "Dockerfile").write_text("\n".join(lines) + "\n")
        docker("build", "-q", "-t", f"{REGISTRY}/{source}:v1", context)
    docker("push", f"{REGISTRY}/{source}:v1")
    with Registry(REGISTRY) as registry:
        manifest = registry.manifest(source, "v1")
        layer_bytes = sum(layer["size"] for layer in manifest.document["layers"])
        started = time.perf_counter()
        result = promote(registry, source, "v1", target, ["v1"], frozenset({"v1"}), overwrite=False)
        promote_s = time.perf_counter() - started
        promote_bytes = registry.bytes_sent
        assert result.digest == manifest.digest

    docker("rmi", f"{REGISTRY}/{source}:v1")  # the baseline starts from a runner without the image
    started = time.perf_counter()
    docker("pull", f"{REGISTRY}/{source}:v1")
    docker("tag", f"{REGISTRY}/{source}:v1", f"{REGISTRY}/{baseline}:v1")
    docker("push", f"{REGISTRY}/{baseline}:v1")
    baseline_s = time.perf_counter() - started
    docker("rmi", f"{REGISTRY}/{source}:v1", f"{REGISTRY}/{baseline}:v1")
    return {
        "layers_mb": round(layer_bytes / 1e6),
        "promote_s": round(promote_s, 3),
        "promote_bytes_sent": promote_bytes,
        "manifest_bytes": len(manifest.body),
        "baseline_s": round(baseline_s, 2),
        "baseline_bytes_pulled": layer_bytes,
        "speedup": round(baseline_s / promote_s, 1),
        "blobs_mounted": result.mounted,
    }


if __name__ == "__main__":
    print(json.dumps(main()))
