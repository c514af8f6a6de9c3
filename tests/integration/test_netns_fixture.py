def test_netns_runs_real_nft_isolated_from_host(netns):
    netns.add_links("lan0")
    netns.nft("-f", "-", input="table inet probe { chain c { type filter hook forward priority 0; }; }")
    assert "table inet probe" in netns.nft("list", "tables").stdout
