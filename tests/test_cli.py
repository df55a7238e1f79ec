"""The lyhord command: demo, exports, lineage, units, users, publish."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import SurveyRound, Unit, UnitLineage, User
from survey.models.publication import Publication
from tests.factories import stored_rows

LINK = re.compile(r"http://\S+/s/[A-Za-z0-9_-]{20,}")


def demo(runner: FlaskCliRunner) -> str:
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_prints_logins_and_unused_links(runner: FlaskCliRunner, db_session: Session) -> None:
    output = demo(runner)
    assert len(LINK.findall(output)) >= 5
    for email in ("hr@demo.lyhord.se", "namnd@demo.lyhord.se"):
        assert email in output
    units = db_session.scalars(select(Unit)).all()
    assert 10 <= len(units) <= 16
    rounds = db_session.scalars(select(SurveyRound).order_by(SurveyRound.opens_on)).all()
    assert [r.status for r in rounds] == ["published", "published", "open"]
    # A second run keeps the data and prints new links.
    again = demo(runner)
    assert set(LINK.findall(again)).isdisjoint(LINK.findall(output))
    assert len(db_session.scalars(select(Unit)).all()) == len(units)


def test_demo_shows_a_merger_and_a_new_unit(runner: FlaskCliRunner, db_session: Session) -> None:
    demo(runner)
    units = {u.code: u for u in db_session.scalars(select(Unit))}
    merged = db_session.scalars(
        select(UnitLineage).where(UnitLineage.successor_id == units["EKB-HDL"].id)
    ).all()
    assert {m.predecessor.code for m in merged} == {"EKB-NY", "EKB-AKT"}
    assert {m.kind for m in merged} == {"merge"}
    second = db_session.scalars(select(SurveyRound).order_by(SurveyRound.opens_on)).all()[1]
    publication = db_session.scalars(
        select(Publication).where(Publication.round_id == second.id, Publication.current)
    ).one()
    notes = {
        (c.group_key, c.note)
        for c in stored_rows(db_session, publication.id, "comparisons")
        if c.kind == "previous"
    }
    assert (f"u:{units['EKB-HDL'].id}", "merge") in notes
    assert not any(key == f"u:{units['IFO-VNR'].id}" for key, _note in notes)


def test_demo_link_opens_the_survey(runner: FlaskCliRunner, app) -> None:
    link = LINK.findall(demo(runner))[0]
    client = app.test_client()
    response = client.get(link.split("lyhord.test", 1)[1], follow_redirects=True)
    assert response.status_code == 200
    assert "Hur din anonymitet skyddas" in response.text


def test_export_results_and_kolada(
    runner: FlaskCliRunner, tmp_path: Path, db_session: Session
) -> None:
    demo(runner)
    first = db_session.scalars(select(SurveyRound).order_by(SurveyRound.opens_on)).first()
    out = tmp_path / "results.csv"
    result = runner.invoke(args=["export-results", str(first.id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert {r["record"] for r in rows} == {"group", "figure", "comparison", "hidden"}
    assert all(r["period"] == first.period_label for r in rows)
    hidden = [r for r in rows if r["record"] == "hidden"]
    assert hidden
    assert all(r["rule"] and r["n"] == "" and r["mean"] == "" for r in hidden)
    every = tmp_path / "all.csv"
    assert runner.invoke(args=["export-results", "--all", "--out", str(every)]).exit_code == 0
    kolada = tmp_path / "kolada.csv"
    result = runner.invoke(args=["export-kolada", str(first.id), "--out", str(kolada)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(kolada.read_text(encoding="utf-8"))))
    kpis = {r["kpi"]: r for r in rows}
    assert {"U00200", "U00201", "U00202", "U00203"} <= set(kpis)
    assert {"U30200", "U30201", "U30202", "U30203"} <= set(kpis)
    assert 0 < float(kpis["U00200"]["value"]) < 100


def test_export_of_an_unpublished_round_fails_clearly(
    runner: FlaskCliRunner, tmp_path: Path, db_session: Session
) -> None:
    demo(runner)
    open_round = db_session.scalars(select(SurveyRound).where(SurveyRound.status == "open")).one()
    result = runner.invoke(
        args=["export-results", str(open_round.id), "--out", str(tmp_path / "x.csv")]
    )
    assert result.exit_code != 0
    assert "no published results" in result.output


def test_publish_closes_and_publishes(runner: FlaskCliRunner, db_session: Session) -> None:
    demo(runner)
    open_round = db_session.scalars(select(SurveyRound).where(SurveyRound.status == "open")).one()
    result = runner.invoke(args=["publish", str(open_round.id)])
    assert result.exit_code == 0, result.output
    db_session.expire_all()
    assert db_session.get(SurveyRound, open_round.id).status == "published"


def test_import_units_lineage_and_users(
    runner: FlaskCliRunner, tmp_path: Path, db_session: Session
) -> None:
    units_csv = tmp_path / "units.csv"
    units_csv.write_text(
        "code,name,parent_code,verksamhet\nX,Förvaltning,,\nX1,Enhet ett,X,IFO\nX2,Enhet två,X,\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["import-units", str(units_csv)])
    assert result.exit_code == 0, result.output
    x1 = db_session.scalars(select(Unit).where(Unit.code == "X1")).one()
    assert x1.parent.code == "X"
    assert x1.verksamhet == "IFO"
    result = runner.invoke(args=["add-lineage", "X1", "X2", "--kind", "merge"])
    assert result.exit_code == 0, result.output
    assert db_session.scalars(select(UnitLineage)).one().kind == "merge"
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "chef@example.se",
            "--name",
            "Chef",
            "--role",
            "manager",
            "--unit",
            "X1",
        ],
        input="a-long-password\na-long-password\n",
    )
    assert result.exit_code == 0, result.output
    user = db_session.scalars(select(User).where(User.email == "chef@example.se")).one()
    assert user.password_hash.startswith("$argon2id$")
    assert [u.code for u in user.units] == ["X1"]


def test_bad_unit_csv_is_refused(runner: FlaskCliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,parent_code\nY1,Enhet,NOPE\n", encoding="utf-8")
    result = runner.invoke(args=["import-units", str(bad)])
    assert result.exit_code != 0
    assert "unknown parent" in result.output
