"""The test clients' reading of what users saw (tests/deploy_support.py): a switch seen once,
however the overlapping requests of several threads happen to be ordered."""

from deploy_support import LoadClient


def client(*spans: tuple[float, float, str]) -> LoadClient:
    load = LoadClient("http://127.0.0.1:9/")
    load.spans = list(spans)
    return load


def test_a_request_that_started_before_the_switch_and_was_served_after_it_is_not_a_second_switch():
    # what CI saw once: by start time before, after, before, after — all four overlapping the switch
    load = client((1.00, 1.02, "before"), (1.01, 1.03, "after"), (1.015, 1.04, "before"), (1.016, 1.018, "after"))
    assert load.bodies() == ["before", "after"]


def test_the_old_body_for_a_request_started_after_a_new_answer_ended_is_a_real_flap():
    load = client((1.0, 1.1, "before"), (1.2, 1.3, "after"), (1.4, 1.5, "before"))
    assert load.bodies() == ["before", "after", "before"]


def test_one_body_and_a_clean_switch():
    assert client((1.0, 1.1, "v1"), (1.2, 1.3, "v1")).bodies() == ["v1"]
    assert client((1.0, 1.1, "v1"), (1.2, 1.3, "v2"), (1.4, 1.5, "v2")).bodies() == ["v1", "v2"]
    assert client().bodies() == []
