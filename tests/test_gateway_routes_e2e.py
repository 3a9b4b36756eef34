"""Plugin HTTP routes served by a real gateway process reach the running App."""

import httpx
from prometheus_client.parser import text_string_to_metric_families


def test_metrics_routes_answer_through_the_real_gateway(running_gateway):
    base, token = running_gateway
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{base}/metrics", timeout=10).status_code == 401
    text = httpx.get(f"{base}/metrics", headers=headers, timeout=10).text
    names = {family.name for family in text_string_to_metric_families(text)}
    assert any(name.startswith("moltbot_") for name in names)
    seed_shape = httpx.get(f"{base}/api/metrics", headers=headers, timeout=10).json()
    assert set(seed_shape) >= {"gateway", "agents", "system"}
    assert seed_shape["gateway"]["uptime"] >= 0
