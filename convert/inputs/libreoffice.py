"""LibreOffice headless as a converter of old Word files to .docx: one start for many files, a private profile, a timeout.

The profile is made for each start and turns off what a document could make LibreOffice do: run macros, update
links, fetch linked pictures, leave lock files. The files are copies in a private folder, so nothing is written
beside the inputs.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from convert.errors import Phrase, UnreadableInputError

log = logging.getLogger(__name__)


# Starting LibreOffice takes a few seconds, each file a fraction of one; the margins are for slow, busy machines.
TIMEOUT_START_SECONDS = 60.0
TIMEOUT_PER_FILE_SECONDS = 10.0

# Macros never run, links are never updated, no lock files; and every address on the network goes through a proxy
# that is not there (port 9 of this computer), so a linked picture is never fetched: LibreOffice would fetch it while
# loading a .doc, whatever its link settings say.
PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update"><prop oor:name="Field" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="UseLocking" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetProxyType" oor:op="fuse"><value>1</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetNoProxy" oor:op="fuse"><value></value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPProxyName" oor:op="fuse"><value>127.0.0.1</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPProxyPort" oor:op="fuse"><value>9</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPSProxyName" oor:op="fuse"><value>127.0.0.1</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPSProxyPort" oor:op="fuse"><value>9</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetFTPProxyName" oor:op="fuse"><value>127.0.0.1</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetFTPProxyPort" oor:op="fuse"><value>9</value></prop></item>
</oor:items>
"""


DEAD_PROXY = "http://127.0.0.1:9"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


def executable() -> str | None:
    """The LibreOffice command on PATH, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def timeout_for(count: int) -> float:
    """Seconds to wait for one start converting count files."""
    return TIMEOUT_START_SECONDS + TIMEOUT_PER_FILE_SECONDS * count


def convert_to_docx(sources: Mapping[str, bytes], outdir: Path, suffix: str = ".doc") -> dict[str, Path | Phrase]:
    """Convert documents (name → bytes) to .docx in outdir with one LibreOffice start.

    Returns name → the .docx written, or a one-line reason it was not. Raises UnreadableInputError when
    LibreOffice is not installed.
    """
    exe = executable()
    if exe is None:
        raise UnreadableInputError("libreoffice-missing")
    if not sources:
        return {}
    outdir.mkdir(parents=True, exist_ok=True)
    timeout = timeout_for(len(sources))
    with tempfile.TemporaryDirectory(prefix="nianbao-lo-") as tmp:
        work = Path(tmp)
        profile, inbox = work / "profile", work / "in"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(PROFILE_SETTINGS, encoding="utf-8")
        inbox.mkdir()
        paths = []
        for name, data in sources.items():
            path = inbox / f"{name}{suffix}"
            path.write_bytes(data)
            paths.append(path)
        cmd = [
            exe,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            "--nologo",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(outdir),
            *map(str, paths),
        ]
        log.info("LibreOffice: converting %d file(s) to .docx in one start", len(paths))
        # HOME too points into the private folder: nothing of the user's own LibreOffice is read or changed.
        env = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"} | {"HOME": str(work)}
        env |= {name: DEAD_PROXY for name in PROXY_VARIABLES}
        # A session of its own, so a timeout kills soffice.bin and its helpers too, not only the wrapper script.
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            start_new_session=True,
        )  # fmt: skip
        timed_out = False
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            out, err, timed_out = b"", b"", True
    said = _last_line(err or out)
    if timed_out:
        detail = Phrase("libreoffice-timeout", seconds=f"{timeout:.0f}")
    else:
        detail = Phrase("libreoffice-said", line=said) if said else Phrase("libreoffice-exit", code=proc.returncode)
    result: dict[str, Path | Phrase] = {}
    for name in sources:
        made = outdir / f"{name}.docx"
        result[name] = made if made.is_file() else detail
    return result


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill the process group of a LibreOffice start (already gone: nothing to do)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.communicate()


def _last_line(data: bytes) -> str:
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""
