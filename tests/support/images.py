"""The services' images as their Dockerfiles (deploy/images) declare them: what the runtime stage
copies from the build context (after the root's .dockerignore), its volumes, user, environment,
entry point and command. Read, not built: there is no container engine in the tests."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "deploy" / "images"
SERVICES = ("ingest", "triage", "registry")


@dataclass(frozen=True)
class Copy:
    """One COPY instruction: its sources (in the context, or in ``stage``) and destination."""

    sources: tuple[str, ...]
    destination: str
    stage: str | None = None


@dataclass
class Image:
    """The runtime (last) stage of a service's Dockerfile."""

    base: str
    copies: list[Copy] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    user: str = ""
    workdir: str = "/"
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)


def dockerfile(service: str) -> Path:
    """deploy/images/<service>.Dockerfile."""
    return IMAGES / f"{service}.Dockerfile"


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        text = pending + stripped
        pending = ""
        keyword, _, arguments = text.partition(" ")
        out.append((keyword.upper(), arguments.strip()))
    assert not pending, f"{path}: unfinished continuation line"
    return out


def _words(arguments: str) -> list[str]:
    """An instruction's arguments, in exec (JSON) form or shell words."""
    if arguments.startswith("["):
        words: list[str] = json.loads(arguments)
        return words
    return shlex.split(arguments)


def read_image(service: str) -> Image:
    """The runtime stage of ``service``'s Dockerfile."""
    image: Image | None = None
    for keyword, arguments in instructions(dockerfile(service)):
        if keyword == "FROM":
            image = Image(base=arguments.split()[0])
            continue
        assert image is not None, "an instruction before FROM"
        if keyword == "COPY":
            words = _words(arguments)
            stage = None
            while words[0].startswith("--"):
                flag = words.pop(0)
                if flag.startswith("--from="):
                    stage = flag.removeprefix("--from=")
            *sources, destination = words
            image.copies.append(Copy(tuple(sources), destination, stage))
        elif keyword == "VOLUME":
            image.volumes.extend(_words(arguments))
        elif keyword == "ENV":
            for word in shlex.split(arguments):
                name, _, value = word.partition("=")
                image.env[name] = value
        elif keyword == "USER":
            image.user = arguments
        elif keyword == "WORKDIR":
            image.workdir = arguments
        elif keyword == "ENTRYPOINT":
            image.entrypoint = _words(arguments)
        elif keyword == "CMD":
            image.cmd = _words(arguments)
    assert image is not None, f"{service}: no FROM"
    return image


def _pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go's filepath.Match plus ``**``) as a regular expression."""
    out = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out += "(?:.*/)?"
            index += 3
        elif pattern.startswith("**", index):
            out += ".*"
            index += 2
        elif pattern[index] == "*":
            out += "[^/]*"
            index += 1
        elif pattern[index] == "?":
            out += "[^/]"
            index += 1
        else:
            out += re.escape(pattern[index])
            index += 1
    return re.compile(out)


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether the context path ``relative`` is left out: the last pattern matching the path
    or one of its parent folders decides, ``!`` bringing a path back."""
    parts = PurePosixPath(relative).parts
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = _pattern(pattern.removeprefix("!").strip("/"))
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


def dockerignore(root: Path = ROOT) -> list[str]:
    """The patterns of the build context's .dockerignore."""
    lines = (root / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def context_files(image: Image, root: Path = ROOT) -> dict[str, Path]:
    """Image path -> context file, for every COPY from the build context (not from a stage).

    A folder source copies its content into the destination; file sources go into a
    destination ending in ``/``, or become it.
    """
    patterns = dockerignore(root)
    out: dict[str, Path] = {}
    for copy in image.copies:
        if copy.stage is not None:
            continue
        for source in copy.sources:
            path = root / source
            assert path.exists(), f"COPY {source}: not in the build context"
            assert not ignored(source, patterns), f"COPY {source}: left out by .dockerignore"
            if path.is_dir():
                for file in sorted(path.rglob("*")):
                    relative = file.relative_to(root).as_posix()
                    if file.is_file() and not ignored(relative, patterns):
                        inner = file.relative_to(path).as_posix()
                        out[str(PurePosixPath(copy.destination) / inner)] = file
            elif copy.destination.endswith("/"):
                out[str(PurePosixPath(copy.destination) / path.name)] = path
            else:
                assert len(copy.sources) == 1, f"COPY of several files to {copy.destination}"
                out[copy.destination] = path
    return out
