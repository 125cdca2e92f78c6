"""Development tools, kept out of production: benchmarks, the synthetic district and the demo data.

Installed as a Django app by the local and test settings only (portal/settings/local.py, test.py);
production settings do not install it, and no production module imports it (an import-linter
contract holds that). `devtools.bench` builds synthetic data and times the engine, `devtools.demo`
loads the 示例 enterprises and logins, and `devtools/management/commands` holds `bootstrap`,
`load_demo`, `bench_matching`, `bench_feed` and `bench_fanout`.
"""
