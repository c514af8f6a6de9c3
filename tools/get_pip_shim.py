"""Offline stand-in for the get-pip script that ansible-test downloads.

ansible-test bootstraps pip in every virtual environment it creates by running a get-pip script
that it fetches from a host CI cannot reach, unless a copy is cached at
~/.ansible/test/cache/get_pip_<version>.py. tools/ansible-test-sanity.sh installs this file there.

It takes the same arguments as get-pip (pip install arguments plus the get-pip-only flags
--no-setuptools and --no-wheel): pip comes from the interpreter's own ensurepip, then pip upgrades
itself from the package index. ansible-test runs it with a scrubbed environment, so the system CA
bundle is passed explicitly and written to the venv's pip.conf for ansible-test's later installs.
"""

import os
import subprocess
import sys

# tools/ansible-test-sanity.sh only overwrites a cached script that carries this marker.
SHIM_MARKER = 'netpolicy-vpn-passthrough-get-pip-shim'

CA_BUNDLES = (
    '/etc/ssl/certs/ca-certificates.crt',  # Debian, Ubuntu
    '/etc/pki/tls/certs/ca-bundle.crt',  # RHEL family
)

GET_PIP_ONLY_FLAGS = ('--no-setuptools', '--no-wheel')


def find_ca_bundle():
    """Return the system CA bundle path, or None when the system has none we know."""
    for path in CA_BUNDLES:
        if os.path.isfile(path):
            return path
    return None


def installed(module):
    """Return True when the interpreter running this script can import the given module."""
    probe = [sys.executable, '-c', 'import importlib.util, sys; sys.exit(importlib.util.find_spec(sys.argv[1]) is None)', module]
    return subprocess.call(probe) == 0


def write_site_pip_conf(ca_bundle):
    """Make later pip runs in this virtual environment trust the system CA bundle."""
    if sys.prefix == sys.base_prefix:
        return  # not a virtual environment: leave the system's pip settings alone
    with open(os.path.join(sys.prefix, 'pip.conf'), 'w', encoding='utf-8') as conf:
        conf.write(f'[global]\ncert = {ca_bundle}\n')


def main(argv):
    """Bootstrap pip like get-pip does, with the arguments ansible-test passes."""
    pip_args = [arg for arg in argv if arg not in GET_PIP_ONLY_FLAGS]
    had_setuptools = installed('setuptools')

    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'])

    # ensurepip of Python <= 3.11 also installs setuptools; get-pip would not when asked not to.
    if '--no-setuptools' in argv and not had_setuptools and installed('setuptools'):
        subprocess.check_call([sys.executable, '-m', 'pip', 'uninstall', '--yes', '--quiet', 'setuptools'])

    ca_bundle = find_ca_bundle()
    cert_args = []
    if ca_bundle:
        cert_args = ['--cert', ca_bundle]
        write_site_pip_conf(ca_bundle)

    subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--upgrade'] + cert_args + pip_args)
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as ex:
        # pip has printed why; one clear line instead of a traceback through runpy
        sys.exit(f'{SHIM_MARKER}: bootstrapping pip failed: {" ".join(ex.cmd)} exited with {ex.returncode} (is the package index reachable?)')
