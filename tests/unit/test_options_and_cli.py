"""Build options and the synth command: good input works, bad input gets a specific message."""

from __future__ import annotations

import json

import pytest

from mlflow_cfn import OptionsError, StackOptions, build_template
from mlflow_cfn.cli import main


@pytest.mark.parametrize(
    ("slots", "message"),
    [
        (0, "ingress_cidr_slots must be from 1 to 20, got 0"),
        (21, "ingress_cidr_slots must be from 1 to 20, got 21"),
        ("5", "ingress_cidr_slots must be a whole number from 1 to 20, got '5'"),
        (True, "ingress_cidr_slots must be a whole number from 1 to 20, got True"),
    ],
)
def test_bad_build_options_are_refused_with_a_specific_message(slots, message):
    with pytest.raises(OptionsError) as caught:
        build_template(StackOptions(ingress_cidr_slots=slots))
    assert caught.value.errors == [message]
    assert message in str(caught.value)


def test_synth_writes_the_template_to_stdout(capsys):
    assert main(["synth"]) == 0
    template = json.loads(capsys.readouterr().out)
    assert template["Resources"]["DatabaseCluster"]["Type"] == "AWS::RDS::DBCluster"


def test_synth_writes_yaml_to_a_file(tmp_path):
    out = tmp_path / "sub" / "mlflow.yaml"
    assert main(["synth", "--format", "yaml", "--output", str(out)]) == 0
    assert "AWS::RDS::DBCluster" in out.read_text()


def test_synth_refuses_a_bad_slot_count_naming_the_option(capsys):
    assert main(["synth", "--ingress-cidr-slots", "0"]) == 2
    assert "ingress_cidr_slots must be from 1 to 20, got 0" in capsys.readouterr().err


def test_synth_refuses_a_directory_as_output(tmp_path, capsys):
    assert main(["synth", "--output", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["synth", "--format", "xml"], "invalid choice: 'xml'"),
        (["synth", "--ingress-cidr-slots", "many"], "must be a whole number, got 'many'"),
        (["nonsense"], "invalid choice: 'nonsense'"),
    ],
)
def test_bad_cli_flags_name_the_flag(argv, message, capsys):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert message in capsys.readouterr().err
