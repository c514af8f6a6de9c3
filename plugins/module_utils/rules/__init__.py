# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

"""The rule registry. Adding a rule: one file here (ID, severity, message, rationale,
check), one import line below, one test file in tests/unit/rules/."""

from . import (
    np001_unreadable_input, np002_schema, np101_pptp_broken, np102_ah_through_nat,
    np103_l2tp_cleartext, np104_grant_expired, np105_grant_expiring, np106_client_outside_lan,
    np107_interface_lan_and_wan, np108_duplicate_grant_name, np109_waiver_unknown_grant,
    np110_waiver_unknown_rule, np111_waiver_expired, np112_waiver_unused,
    np113_raw_esp_single_client, np114_servers_any, np115_esp_needs_nat_traversal_allowed,
    np116_l2tp_over_ipsec_needs_ipsec, np117_options_for_absent_protocol,
    np118_server_inside_lan, np119_address_family_mismatch,
)

ALL_RULES = [m.RULE for m in (
    np001_unreadable_input, np002_schema, np101_pptp_broken, np102_ah_through_nat,
    np103_l2tp_cleartext, np104_grant_expired, np105_grant_expiring, np106_client_outside_lan,
    np107_interface_lan_and_wan, np108_duplicate_grant_name, np109_waiver_unknown_grant,
    np110_waiver_unknown_rule, np111_waiver_expired, np112_waiver_unused,
    np113_raw_esp_single_client, np114_servers_any, np115_esp_needs_nat_traversal_allowed,
    np116_l2tp_over_ipsec_needs_ipsec, np117_options_for_absent_protocol,
    np118_server_inside_lan, np119_address_family_mismatch,
)]
RULES = dict((rule.id, rule) for rule in ALL_RULES)
