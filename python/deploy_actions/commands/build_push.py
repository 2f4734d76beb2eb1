"""build-push: one artifact. Build the image once, tag it with the release version and the
commit SHA, push it — or promote an image that was already pushed, registry-side, so the
digest that passed on stage is the digest production runs."""

from __future__ import annotations

from deploy_actions import gha
from deploy_actions.console import Reporter
from deploy_actions.errors import CheckFailed
from deploy_actions.images import publish
from deploy_actions.images.build import build
from deploy_actions.images.registry import RegistryError
from deploy_actions.images.settings import OPTIONS, Inputs, parse_inputs, secrets
from deploy_actions.options import Command
from deploy_actions.results import Result

OUTPUTS = {
    "image": "Image name without tag.",
    "digest": "Manifest digest the tags point at (empty in build mode).",
    "image-id": "Image ID (config digest) of the built image (empty in promote mode).",
    "tags": "Full references, one per line (image:tag).",
    "labels": "Labels set on the image, one key=value per line.",
    "metadata": "JSON: mode, image, digest, image_id, version, tags, labels, pushed, promoted_from.",
}


def run(inputs: Inputs, reporter: Reporter) -> Result:
    image_id, digest = "", ""
    try:
        reused = publish.released_already(inputs, reporter) if inputs.mode == "push" else None
        if reused:
            client, image_id = publish.pull(inputs, reused, reporter)
            publish.boot_check(client, inputs, image_id, reporter)
            digest = reused
        elif inputs.mode == "promote":
            digest = publish.promote(inputs, reporter)
        else:
            if inputs.mode == "push" and len(inputs.build.platforms) > 1:
                publish.refuse_taken_tags(inputs)  # buildx pushes as it builds: check before
            client, image_id, pushed = build(inputs, reporter)
            publish.boot_check(client, inputs, image_id, reporter)
            if pushed:
                digest = publish.verify_pushed(inputs, pushed, reporter)
            elif inputs.mode == "push":
                digest = publish.push(client, inputs, image_id, reporter)
    except RegistryError as exc:
        return _failed(inputs, CheckFailed(str(exc)), image_id)
    except CheckFailed as exc:
        return _failed(inputs, exc, image_id)
    refs = [f"{inputs.image.name}:{t}" for t in inputs.tags.tags]
    metadata = {
        "mode": inputs.mode,
        "image": inputs.image.name,
        "digest": digest or None,
        "image_id": image_id or None,
        "version": inputs.tags.version,
        "tags": refs,
        "labels": inputs.labels,
        "pushed": inputs.mode != "build",
        "promoted_from": str(inputs.source) if inputs.source else None,
    }
    outputs = {
        "image": inputs.image.name,
        "digest": digest,
        "image-id": image_id,
        "tags": "\n".join(refs),
        "labels": "\n".join(f"{k}={v}" for k, v in inputs.labels.items()),
        "metadata": metadata,
    }
    verb = {"build": "built (not pushed)", "push": "pushed", "promote": "promoted"}[inputs.mode]
    rows = [
        ["Image", f"`{inputs.image.name}`"],
        ["Digest", f"`{digest}`" if digest else "—"],
        ["Image ID", f"`{image_id}`" if image_id else "—"],
        ["Tags", ", ".join(f"`{t}`" for t in inputs.tags.tags)],
    ]
    if inputs.source:
        rows.append(["From", f"`{inputs.source}`"])
    summary = f"### ✅ build-push: {verb}\n\n" + gha.md_table(["", ""], rows)
    return Result(True, document=metadata, outputs=outputs, summary=summary)


def _failed(inputs: Inputs, failure: CheckFailed, image_id: str) -> Result:
    """A failed build, check or push still reports like a passed one: which image, the image
    that was built (if it was), the tags it would have carried, and nothing pushed."""
    message = str(failure)
    metadata = {
        "mode": inputs.mode,
        "image": inputs.image.name,
        "digest": None,
        "image_id": image_id or None,
        "version": inputs.tags.version,
        "tags": [f"{inputs.image.name}:{t}" for t in inputs.tags.tags],
        "pushed": False,
        "error": message,
    }
    rows = [
        ["Image", f"`{inputs.image.name}`"],
        ["Image ID", f"`{image_id}`" if image_id else "—"],
        ["Tags (not pushed)", ", ".join(f"`{t}`" for t in inputs.tags.tags)],
    ]
    title = "deploy-actions build-push"
    result = Result(
        False,
        document={"error": message, "kind": "check", **metadata},
        outputs={"image": inputs.image.name, "digest": "", "image-id": image_id, "tags": "", "metadata": metadata},
        summary=f"### ❌ {title} failed\n\n{gha.md_cell(message)}\n\n" + gha.md_table(["", ""], rows),
    )
    result.error(failure.detail or message, title=failure.title or title, file=failure.file, line=failure.line)
    return result


COMMAND = Command(
    name="build-push",
    summary="Build the image once, tag it vX.Y.Z + commit SHA, push it; promote the same digest, never rebuild.",
    description=__doc__ or "",
    options=OPTIONS,
    outputs=OUTPUTS,
    parse=parse_inputs,
    run=run,
    secrets=secrets,
    branding=("package", "blue"),
)
