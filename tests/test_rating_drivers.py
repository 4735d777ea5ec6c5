"""The driver view (issue 14): where items carry a score (stars, CSAT), each theme's effect on the average, i.e. how
much the average would rise if the theme's items scored like the rest."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect, text

from insight import schema as S
from insight.report import rating_effects


def test_effect_is_how_much_the_average_would_rise():
    items = pd.DataFrame({S.THEME: ["A"] * 5 + ["B"] * 6, S.RATING: [1, 1, 2, 2, 1] + [5, 5, 4, 4, 5, 5]})
    out = rating_effects(items).set_index(S.THEME)
    rest_a = items.loc[items[S.THEME] != "A", S.RATING].mean()
    assert out.at["A", "mean_rating"] == 1.4 and out.at["A", "rated"] == 5
    assert out.at["A", "rating_effect"] == pytest.approx(rest_a - items[S.RATING].mean(), abs=1e-3)
    assert out.at["B", "rating_effect"] < 0 < out.at["A", "rating_effect"]


def test_no_scores_no_effects():
    assert rating_effects(pd.DataFrame({S.THEME: ["A", "B"], S.RATING: [None, None]})).empty


def test_runs_with_ratings_show_effects_in_the_theme_table(tiny_frame, tiny_config):
    from insight.flow import run

    result = run(tiny_frame, tiny_config)
    rated = result.themes.dropna(subset=["rating_effect"])
    assert len(rated) > 0 and rated["mean_rating"].between(1, 5).all()


def test_an_older_store_gains_the_new_columns(tmp_path, tiny_frame, tiny_config):
    """Regression guard: a store created before a column existed (and before migrations) must still accept runs:
    it gains the missing tables and columns and is stamped at the migrations' baseline."""
    from insight.flow import run
    from insight.store import SQLStore

    url = f"sqlite:///{tmp_path / 'old.db'}"
    with create_engine(url).begin() as conn:  # the themes table as an older version created it
        conn.execute(text("CREATE TABLE themes (run_id VARCHAR(40), theme_id VARCHAR(40), label TEXT, "
                          "PRIMARY KEY (run_id, theme_id))"))
    store = SQLStore(url)
    store.publish(run(tiny_frame, tiny_config))
    assert {"rating_effect", "mean_rating", "size"} <= {c["name"] for c in inspect(store.engine).get_columns("themes")}
    assert len(store.load(store.latest_run_id(), "themes")) > 0
    from insight.store import migrations

    assert migrations.current(store.engine) == migrations.head()


def test_the_brief_names_what_pulls_the_rating_down(tiny_frame, tiny_config):
    from insight import open_store
    from insight.flow import run_and_store
    from insight.operations import weekly_brief
    from insight.report import to_markdown

    result = run_and_store(tiny_frame, tiny_config)
    text = to_markdown(weekly_brief(open_store(tiny_config), result.run_id))
    worst = result.themes.dropna(subset=["rating_effect"]).sort_values("rating_effect").iloc[-1]
    assert worst["rating_effect"] > 0  # the late-parcel themes are rated 1, the refund ones 2
    assert "## What pulls the rating down" in text and worst["theme_id"] in text
