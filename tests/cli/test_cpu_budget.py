from glossify.cli.cpu_budget import Scaled, fitting_max_replicas

DETECTOR = Scaled("TermDetector", 0.25, 1, 2)
EXPLAINER = Scaled("TermExplainer", 0.5, 1, 2)


def test_two_cores_leave_no_room_to_scale_beside_the_transcriber() -> None:
    # Transcriber 1 + ingress 0.1 + hosts: the second replicas would take its CPU when it dies.
    maxima = fitting_max_replicas(2.0, 1.12, [DETECTOR, EXPLAINER])
    assert maxima == {"TermDetector": 1, "TermExplainer": 1}


def test_four_cores_keep_the_deployments_own_maxima() -> None:
    assert fitting_max_replicas(4.0, 1.12, [DETECTOR, EXPLAINER]) == {
        "TermDetector": 2,
        "TermExplainer": 2,
    }


def test_the_largest_demand_gives_way_first() -> None:
    # 1.12 + 2 x 0.25 + 3 x 0.5 = 3.12; with one explainer replica less, 2.62 fits in 2.7.
    three = Scaled("TermExplainer", 0.5, 1, 3)
    assert fitting_max_replicas(2.7, 1.12, [DETECTOR, three]) == {
        "TermDetector": 2,
        "TermExplainer": 2,
    }


def test_never_below_the_minimum_even_when_nothing_fits() -> None:
    keep_two = Scaled("TermExplainer", 0.5, 2, 4)
    assert fitting_max_replicas(1.0, 1.12, [DETECTOR, keep_two]) == {
        "TermDetector": 1,
        "TermExplainer": 2,
    }


def test_the_local_stack_reads_the_deployments_demands_and_keeps_a_configured_maximum() -> None:
    from glossify.app import fixed_cpus, scaled_backends
    from glossify.cli.local_stack import scaled_to_fit
    from glossify.config.settings import load_config

    config = load_config({}, env={"DATABASE_URL": "postgresql://localhost/glossify"})
    # The Transcriber's whole CPU, the ingress' tenth and a sliver per meeting host.
    assert 1.1 < fixed_cpus(config) < 1.2
    by_name = {one.name: one for one in scaled_backends(config)}
    assert by_name["TermExplainer"].cpus_per_replica == 0.5
    assert by_name["TermExplainer"].max_replicas >= 2
    capped = scaled_to_fit({"autoscaling": {"TermExplainer": {"max_replicas": 3}}}, config, 2)
    assert capped["autoscaling"] == {
        "TermExplainer": {"max_replicas": 3},
        "TermDetector": {"max_replicas": 1},
    }
    roomy = scaled_to_fit({}, config, 16)["autoscaling"]
    assert roomy["TermExplainer"]["max_replicas"] == by_name["TermExplainer"].max_replicas
