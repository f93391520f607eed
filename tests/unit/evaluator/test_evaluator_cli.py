"""The evaluator CLI: `score` round trip and input errors, `bench-judge` on a small file."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from interview_evaluator.agreement import pearson, rmse, spearman, token_f1
from interview_evaluator.cli import app
from scipy import stats
from typer.testing import CliRunner

runner = CliRunner()

LINES: list[dict[str, object]] = [
    {
        "id": "q1-good",
        "question": "What is a pointer?",
        "reference_answer": "A variable that contains the address in memory of another variable.",
        "answer": "A variable holding the memory address of another variable.",
    },
    {
        "id": 2,
        "question": "What is a pointer?",
        "reference_answer": "A variable that contains the address in memory of another variable.",
        "answer": "   ",
    },
    {
        "id": "q2-key-points",
        "question": "What does the sizeof operator return?",
        "reference_answer": "The size in bytes of its operand.",
        "answer": "The number of bytes its operand occupies.",
        "key_points": ["size in bytes", "of its operand"],
    },
]


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_score_round_trip(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", LINES)
    target = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", str(source), str(target)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [row["id"] for row in rows] == ["q1-good", 2, "q2-key-points"]
    good, blank, keyed = rows
    assert good["outcome"] == "SCORED"
    assert 0 <= good["score"] <= 100
    assert good["reason"] is None
    assert good["feedback"]
    assert "similarity" in good["explanation"]
    assert blank == {
        "id": 2,
        "score": None,
        "outcome": "UNSCORABLE",
        "reason": "empty",
        "feedback": "No answer was given.",
        "explanation": {"gate": "empty"},
    }
    assert keyed["explanation"]["key_points"]["source"] == "request"


def test_score_rejects_malformed_json_naming_the_line(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(LINES[0]) + "\n{not json\n", encoding="utf-8")
    target = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", str(source), str(target)])
    assert result.exit_code == 2
    assert "line 2" in result.output
    assert "Traceback" not in result.output
    assert not target.exists()  # nothing is written when any line is bad


def test_score_rejects_a_missing_field_naming_it(tmp_path: Path) -> None:
    row = {key: value for key, value in LINES[0].items() if key != "answer"}
    source = write_jsonl(tmp_path / "in.jsonl", [LINES[0], LINES[2], row])
    result = runner.invoke(app, ["score", str(source), str(tmp_path / "out.jsonl")])
    assert result.exit_code == 2
    assert "line 3" in result.output
    assert "answer" in result.output


def test_score_reports_a_missing_input_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", str(tmp_path / "nope.jsonl"), str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "not found" in result.output


def _synthetic_golden(path: Path) -> Path:
    """Two assignments, four questions, answers from exact to unrelated (not real data)."""
    questions = {
        "1.1": ("What is a pointer?", "A variable that holds the memory address of another."),
        "1.2": ("What does sizeof return?", "The size in bytes of its operand."),
        "2.1": ("Where do C++ programs start?", "At the main function, the entry point."),
        "2.2": ("How are arrays passed to functions?", "By reference, as a pointer to element 0."),
    }
    filler = "something unrelated about loops and conditions and maybe a database table"
    rows: list[dict[str, object]] = []
    for qid, (question, reference) in questions.items():
        words = reference.split()
        variants = [
            (reference, 5.0),
            (" ".join(words[: len(words) // 2 + 1]), 3.5),
            (" ".join(words[:2]) + " " + filler, 2.0),
            (filler, 0.5),
            ("not answered", 0.0),
        ]
        for index, (answer, grade) in enumerate(variants):
            rows.append(
                {
                    "question_id": qid,
                    "answer_index": index,
                    "question": question,
                    "reference_answer": reference,
                    "answer": answer,
                    "score_human": grade,
                }
            )
    return write_jsonl(path, rows)


def test_bench_judge_reports_figures(tmp_path: Path) -> None:
    golden = _synthetic_golden(tmp_path / "golden.jsonl")
    result = runner.invoke(app, ["bench-judge", "--golden", str(golden)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    for text in (
        "Pearson",
        "Spearman",
        "RMSE",
        "QWK",
        "band 0-1",
        "band 2-3",
        "band 4-5",
        "current: offline v1 (lexical)",
        "new: semantic v2",
        "token-overlap F1",
        "embeddings alone (cosine)",
        "leave-1-assignment-out CV",
        "leave-1-question-out CV",
        "sent to human review",
    ):
        assert text in result.output
    assert "Gated as unscorable: 4 (no_answer=4)" in result.output
    assert "answers/s" in result.output


def test_bench_judge_llm_without_a_key_exits_2_before_any_call(tmp_path: Path) -> None:
    golden = _synthetic_golden(tmp_path / "golden.jsonl")
    result = runner.invoke(
        app, ["bench-judge", "--golden", str(golden), "--judge", "llm"], env={"OPENAI_API_KEY": ""}
    )
    assert result.exit_code == 2
    assert "needs OPENAI_API_KEY" in result.output


def test_bench_judge_without_golden_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bench-judge", "--golden", str(tmp_path / "absent.jsonl")])
    assert result.exit_code == 2
    assert "golden file not found" in result.output


def test_calibrate_prints_committable_constants(tmp_path: Path) -> None:
    golden = _synthetic_golden(tmp_path / "golden.jsonl")
    result = runner.invoke(app, ["calibrate", "--golden", str(golden)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("DEFAULT_CALIBRATION = Calibration(")
    assert "correctness=LinearCalibration(" in result.output
    semantic = runner.invoke(app, ["calibrate", "--golden", str(golden), "--scorer", "semantic"])
    assert semantic.exit_code == 0, semantic.output
    assert semantic.output.startswith("DEFAULT_SEMANTIC_CALIBRATION = SemanticCalibration(")
    assert "semantic_only=LinearCalibration(" in semantic.output


def test_metrics_agree_with_scipy() -> None:
    rng = random.Random(7)
    x = [rng.random() for _ in range(200)]
    y = [round(v * 5 + rng.gauss(0, 1.5)) for v in x]  # integer grades: many ties
    assert pearson(x, y) == pytest.approx(stats.pearsonr(x, y).statistic)
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic)
    assert rmse([1.0, 2.0], [1.0, 4.0]) == pytest.approx(2**0.5)


def test_token_f1_baseline() -> None:
    assert token_f1("By reference.", "by reference") == 1.0
    assert token_f1("", "by reference") == 0.0
    assert token_f1("passed by value", "by reference") == pytest.approx(0.4)
