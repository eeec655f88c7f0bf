"""The layering plan: popularity ranking and the layering pipeline's steps, on small
reference graphs with known answers."""

from __future__ import annotations

import pytest

from ndx.stdlib.image.errors import ImageError
from ndx.stdlib.image.layering import plan_layers, popularity, popularity_order


def p(name: str) -> str:
    """A store path for `name` (the hash part only needs the right shape)."""
    return f"/ndx/store/{(name * 32)[:32].lower().replace('-', 'a')}-{name}"


LIBC, SSL, ZLIB, APP, TOOL, DATA = (p(n) for n in ("libc", "openssl", "zlib", "app",
                                                      "tool", "data"))
#   app → openssl → libc, app → zlib → libc, tool → zlib, app → data
GRAPH = {APP: [SSL, ZLIB, DATA, APP], TOOL: [ZLIB], SSL: [LIBC], ZLIB: [LIBC], LIBC: [],
         DATA: []}


def test_popularity_counts_dependency_chains() -> None:
    # libc ends the chains libc, openssl→libc, app→openssl→libc, zlib→libc,
    # app→zlib→libc and tool→zlib→libc.
    assert popularity(GRAPH) == {APP: 1, TOOL: 1, SSL: 2, ZLIB: 3, DATA: 2, LIBC: 6}


def test_a_chain_weighs_more_the_deeper_it_goes() -> None:
    assert popularity({TOOL: [ZLIB], ZLIB: [LIBC], LIBC: []}) == {TOOL: 1, ZLIB: 2, LIBC: 3}


def test_popularity_order_is_most_popular_first_then_by_name() -> None:
    assert popularity_order(GRAPH) == [LIBC, ZLIB, DATA, SSL, APP, TOOL]


def test_default_plan_gives_each_path_a_layer_when_they_fit() -> None:
    groups = plan_layers(GRAPH, GRAPH, [APP, TOOL], layers=10)
    assert groups == [[LIBC], [ZLIB], [DATA], [SSL], [APP], [TOOL]]


def test_default_plan_merges_the_long_tail_into_the_last_layer() -> None:
    groups = plan_layers(GRAPH, GRAPH, [APP, TOOL], layers=3)
    assert groups == [[LIBC], [ZLIB], sorted([APP, DATA, SSL, TOOL])]


def test_only_the_closure_is_planned() -> None:
    assert plan_layers(GRAPH, [TOOL, ZLIB, LIBC], [TOOL], layers=5) == [[LIBC], [ZLIB], [TOOL]]


def test_shared_paths_get_the_same_single_path_layers_in_two_images() -> None:
    one = plan_layers(GRAPH, [APP, SSL, ZLIB, DATA, LIBC], [APP], layers=10)
    two = plan_layers(GRAPH, [TOOL, ZLIB, LIBC], [TOOL], layers=10)
    assert [LIBC] in one and [LIBC] in two and [ZLIB] in one and [ZLIB] in two


def test_subcomponent_out_then_popularity_over_the_rest() -> None:
    pipeline = [["subcomponent_out", [SSL]],
                ["over", "rest", ["pipe", [["popularity_contest"], ["limit_layers", 2]]]]]
    groups = plan_layers(GRAPH, GRAPH, [APP, TOOL], layers=5, pipeline=pipeline)
    assert groups == [sorted([SSL, LIBC]), [ZLIB], sorted([APP, DATA, TOOL])]


def test_subcomponent_in_takes_what_depends_on_the_paths() -> None:
    groups = plan_layers(GRAPH, GRAPH, [APP, TOOL], layers=5,
                         pipeline=[["subcomponent_in", [ZLIB]]])
    assert groups == [sorted([ZLIB, APP, TOOL]), sorted([SSL, LIBC, DATA])]


def test_split_paths_separates_what_is_shared() -> None:
    groups = plan_layers(GRAPH, GRAPH, [APP, TOOL], layers=5,
                         pipeline=[["split_paths", [APP]]])
    # app needs openssl and data alone; zlib and libc are shared with tool.
    assert groups == [sorted([APP, SSL, DATA]), sorted([ZLIB, LIBC]), [TOOL]]


def test_split_every_reverse_and_remove_paths() -> None:
    groups = plan_layers(GRAPH, GRAPH, [APP, TOOL], layers=5,
                         pipeline=[["remove_paths", [DATA]], ["popularity_contest"],
                                   ["split_every", 2], ["reverse"]])
    # popularity without data: libc, zlib, openssl, app, tool; in twos, reversed.
    assert groups == [[TOOL], sorted([SSL, APP]), sorted([LIBC, ZLIB])]


def test_a_pipeline_making_too_many_layers_is_refused() -> None:
    with pytest.raises(ImageError, match=r"makes 6 layers .* only 4 fit.*limit_layers\", 4"):
        plan_layers(GRAPH, GRAPH, [APP], layers=4, pipeline=[["popularity_contest"]])


@pytest.mark.parametrize(("pipeline", "message"), [
    ([["popularity_contst"]], ("unknown layering step 'popularity_contst' "
                              r"\(did you mean 'popularity_contest'\?\)")),
    ([["limit_layers"]], "'limit_layers' takes 1 argument, not 0"),
    ([["limit_layers", 0]], "positive number of layers"),
    (["popularity_contest"], r"a step is a list like \[\"popularity_contest\"\]"),
    ([["popularity_contest"], ["subcomponent_out", [APP]]], "applies to one graph"),
    ([["subcomponent_out", [APP]], ["over", "mian", ["reverse"]]],
     r"no part 'mian' \(did you mean 'main'\?\)"),
])
def test_pipeline_mistakes_are_explained(pipeline: list, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        plan_layers(GRAPH, GRAPH, [APP], layers=10, pipeline=pipeline)


def test_no_layer_left_is_an_error() -> None:
    with pytest.raises(ImageError, match="raise maxLayers"):
        plan_layers(GRAPH, GRAPH, [APP], layers=0)
