"""mkdocs hook: the source files the docs link to become part of the site.

The guides link to the code they explain with relative links such as
``../tinygrad_lite/engine.py``, which work when the Markdown is read in the repository. For
the built site, each linked file outside ``docs/`` is added as a plain file under
``source/`` (``source/tinygrad_lite/engine.py``), so those links work there too, and a link
to a file that does not exist still fails ``mkdocs build --strict``.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files, InclusionLevel

# [text](target) with a relative target; the anchor, if any, is dropped.
LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)#\s]+)")


def on_files(files: Files, config: Any) -> Files:
    docs = Path(config["docs_dir"])
    root = docs.parent
    for page in sorted(docs.glob("*.md")):
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            src_uri = posixpath.normpath(target)
            path = (docs / src_uri).resolve()
            if not src_uri.startswith("../") or src_uri in files or not path.is_file():
                continue  # a page of the docs, already added, or missing (strict says so)
            # INCLUDED explicitly: mkdocs would take the leading ".." for a hidden file.
            source = File.generated(
                config, src_uri, abs_src_path=str(path), inclusion=InclusionLevel.INCLUDED
            )
            source.dest_uri = "source/" + path.relative_to(root).as_posix()
            files.append(source)
    return files
