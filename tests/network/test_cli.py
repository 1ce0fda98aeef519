"""``mlflow-cfn synth --network`` writes the committed network template (tests/template's golden
test keeps the file equal to the code; this keeps the command equal to the file)."""

from mlflow_cfn.cli import main
from tests.conftest import TEMPLATES


def test_synth_network_writes_the_committed_template(tmp_path):
    out = tmp_path / "network.json"
    assert main(["synth", "--network", "--output", str(out)]) == 0
    assert out.read_text() == (TEMPLATES / "network.json").read_text()


def test_synth_network_yaml(capsys):
    assert main(["synth", "--network", "--format", "yaml"]) == 0
    text = capsys.readouterr().out
    assert "NetworkEgress:" in text and "AWS::EC2::VPCEndpoint" in text
