"""The router role's public interface is documented once and consistently: every default is in
meta/argument_specs.yml with the same value, and every variable is in the README table."""
import os

import yaml

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "router")


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return handle.read()


def test_defaults_argument_specs_and_readme_agree():
    defaults = yaml.safe_load(load("defaults", "main.yml"))
    options = yaml.safe_load(load("meta", "argument_specs.yml"))["argument_specs"]["main"]["options"]
    readme = load("README.md")
    assert set(defaults) == set(options)
    for name, spec in options.items():
        assert name.startswith("vpn_passthrough_")
        assert spec.get("description"), name
        assert "| `%s` |" % name in readme, name
        assert not spec.get("required"), name  # the role asserts what state=present needs
        assert spec["default"] == defaults[name], name


def test_every_os_family_lists_both_packages():
    for family, conntrack in (("Debian", "conntrack"), ("RedHat", "conntrack-tools")):
        packages = yaml.safe_load(load("vars", family + ".yml"))["__vpn_passthrough_packages"]
        assert packages == ["nftables", conntrack]
