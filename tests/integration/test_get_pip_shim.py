"""tools/get_pip_shim.py bootstraps pip in a pip-less venv the way ansible-test calls get-pip.

Real venvs and the interpreter's real ensurepip; `--no-index` keeps every case offline.
"""

import os
import pathlib
import subprocess
import venv

import ansible_test
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHIM = ROOT / "tools" / "get_pip_shim.py"
# ansible-test runs the cached get-pip script through this wrapper, with GET_PIP pointing at it.
QUIET_PIP = pathlib.Path(ansible_test.__file__).parent / "_util" / "target" / "setup" / "quiet_pip.py"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def make_venv(path):
    venv.EnvBuilder(with_pip=False).create(path)
    return path / "bin" / "python"


def imports(python, module):
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec(sys.argv[1]) is None)"
    return subprocess.run([str(python), "-c", probe, module], check=False).returncode == 0


def run_like_ansible_test(python, *args):
    env = dict(os.environ, GET_PIP=str(SHIM))
    return subprocess.run([str(python), str(QUIET_PIP), "--disable-pip-version-check", *args],
                          env=env, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def bootstrapped(tmp_path_factory):
    """One pip-less venv bootstrapped the way ansible-test does it (ensurepip is slow)."""
    prefix = tmp_path_factory.mktemp("shim") / "venv"
    python = make_venv(prefix)
    assert not imports(python, "pip")  # the venv really starts without pip
    result = run_like_ansible_test(python, "--no-index", "pip", "--no-setuptools", "--no-wheel")
    return prefix, python, result


def test_bootstraps_pip_without_setuptools(bootstrapped):
    prefix, python, result = bootstrapped

    assert result.returncode == 0, result.stdout + result.stderr
    assert imports(python, "pip")
    assert not imports(python, "setuptools")  # ensurepip installed it; --no-setuptools removed it


def test_venv_pip_trusts_the_system_ca_bundle(bootstrapped):
    prefix, python, _result = bootstrapped

    # ansible-test's later pip runs in this venv get a scrubbed environment; pip.conf carries the CA.
    assert (prefix / "pip.conf").read_text(encoding="utf-8") == f"[global]\ncert = {CA_BUNDLE}\n"
    shown = subprocess.run([str(python), "-m", "pip", "config", "list", "--site"],
                           capture_output=True, text=True, check=True, env={"PATH": os.defpath})
    assert f"global.cert='{CA_BUNDLE}'" in shown.stdout


def test_unsatisfiable_request_fails_in_one_line(bootstrapped):
    _prefix, python, _result = bootstrapped

    result = run_like_ansible_test(python, "--no-index", "pip==0.0.1", "--no-setuptools", "--no-wheel")

    assert result.returncode != 0
    assert "netpolicy-vpn-passthrough-get-pip-shim: bootstrapping pip failed" in result.stderr
    assert "Traceback" not in result.stderr
