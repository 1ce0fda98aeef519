"""Wrong inputs are refused at once, with a message naming the input and what it allows.

Three kinds: build options (`StackOptions`), flags of every `mlflow-cfn` sub-command, and parameter
files given to `mlflow-cfn plan --parameters`. Nothing here reaches AWS: credentials are dummies,
instance metadata is off, and any request a botocore client would send fails the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.httpsession import URLLib3Session

from mlflow_cfn import OptionsError, StackOptions, build_template
from mlflow_cfn.cli import main
from tests.conftest import ROOT

REQUIRED = {
    "VpcId": "vpc-0123456789abcdef0",
    "LoadBalancerSubnetIds": "subnet-0a,subnet-0b",
    "ServiceSubnetIds": "subnet-0a,subnet-0b",
    "DatabaseSubnetIds": "subnet-0c,subnet-0d",
    "LoadBalancerIngressCidrs": "10.0.0.0/8,192.168.0.0/16",
}
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d"
MIN_ABOVE_MAX = "DatabaseMinCapacity (16) is greater than DatabaseMaxCapacity (8)"
CIDRS_RULE = (
    "Parameter 'LoadBalancerIngressCidrs' failed to satisfy constraint: LoadBalancerIngressCidrs "
    "must be 1 to 5 IPv4 CIDRs such as 10.0.0.0/8, separated by commas without spaces."
)
SIDECAR_USER_RULE = (
    "Parameter 'SidecarUser' failed to satisfy constraint: SidecarUser must be a numeric uid or "
    "uid:gid, neither of them 0 (root), e.g. 1000:1000"
)
PREFIX_RULE = (
    "ArtifactPrefix must be path segments of letters, digits, '.', '_' or '-' separated by single "
    "'/', without a leading or trailing '/'"
)


class ReachedAws(Exception):
    """A request a botocore client was about to send."""


def _refuse_network(session: URLLib3Session, request) -> None:
    """Stands in for botocore's HTTP send: a bad input must be refused before any AWS call."""
    raise ReachedAws(f"{request.method} {request.url}")


@pytest.fixture(autouse=True)
def no_aws(monkeypatch, tmp_path):
    """Dummy credentials and region, no instance metadata, no HTTP; run from the repository root
    (the commands' default template path is relative)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(URLLib3Session, "send", _refuse_network)
    monkeypatch.chdir(ROOT)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The exit code and stderr of ``mlflow-cfn argv``; an AWS request or an exception escaping
    main (the user would see a traceback instead of a message) fails the test."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    except ReachedAws as exc:
        pytest.fail(f"`mlflow-cfn {' '.join(argv)}` was not refused before calling AWS: {exc}")
    except Exception as exc:
        pytest.fail(
            f"`mlflow-cfn {' '.join(argv)}` raised {type(exc).__name__}: {exc} "
            "(a traceback instead of a message naming the input)"
        )
    return code, capsys.readouterr().err


def assert_refused(code: int, err: str, expected: list[str], expected_code: int) -> None:
    """The exit code is ``expected_code`` and stderr holds every expected piece of the message."""
    missing = [text for text in expected if text not in err]
    assert (code, missing) == (expected_code, []), f"exit code {code}, stderr:\n{err}"


# --- build options ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "errors"),
    [
        ({"ingress_cidr_slots": -1}, ["ingress_cidr_slots must be from 1 to 20, got -1"]),
        ({"ingress_cidr_slots": 100}, ["ingress_cidr_slots must be from 1 to 20, got 100"]),
        (
            {"ingress_cidr_slots": 2.5},
            ["ingress_cidr_slots must be a whole number from 1 to 20, got 2.5"],
        ),
        (
            {"ingress_cidr_slots": None},
            ["ingress_cidr_slots must be a whole number from 1 to 20, got None"],
        ),
        (
            {"ingress_cidr_slots": False},
            ["ingress_cidr_slots must be a whole number from 1 to 20, got False"],
        ),
    ],
)
def test_bad_build_options_are_refused(options, errors):
    with pytest.raises(OptionsError) as caught:
        build_template(StackOptions(**options))
    assert caught.value.errors == errors


# --- command-line flags ----------------------------------------------------------------------


@pytest.fixture
def files(tmp_path) -> dict[str, str]:
    """Paths the flag cases name as ``{key}``: good and bad inputs, and paths that do not work."""
    paths = {
        "ok": tmp_path / "ok.json",
        "min_above_max": tmp_path / "min-above-max.json",
        "bad_json": tmp_path / "bad.json",
        "list_json": tmp_path / "list.json",
        "missing": tmp_path / "missing.json",
        "dir": tmp_path,
        "under_a_file": tmp_path / "a-file" / "out.json",
    }
    paths["ok"].write_text(json.dumps(REQUIRED))
    minimum_above_maximum = {**REQUIRED, "DatabaseMinCapacity": "16", "DatabaseMaxCapacity": "8"}
    paths["min_above_max"].write_text(json.dumps(minimum_above_maximum))
    paths["bad_json"].write_text("{not json")
    paths["list_json"].write_text("[1]")
    (tmp_path / "a-file").write_text("a file, not a directory")
    return {key: str(path) for key, path in paths.items()}


PUBLISH = ["publish", "--portfolio", "Data science", "--product", "MLflow", "--bucket", "tpl"]


FLAG_CASES = [
    # no or unknown command
    ([], ["the following arguments are required: COMMAND"], 2),
    (["launch"], ["argument COMMAND: invalid choice: 'launch'"], 2),
    # synth
    (["synth", "--format", "toml"], ["argument --format: invalid choice: 'toml'"], 2),
    (
        ["synth", "--ingress-cidr-slots", "2.5"],
        ["argument --ingress-cidr-slots: must be a whole number, got '2.5'"],
        2,
    ),
    (
        ["synth", "--ingress-cidr-slots", "21"],
        ["mlflow-cfn synth: ingress_cidr_slots must be from 1 to 20, got 21"],
        2,
    ),
    (["synth", "--bogus"], ["unrecognized arguments: --bogus"], 2),
    (["synth", "--output", "{dir}"], ["--output {dir} is a directory; give a file path"], 2),
    (["synth", "--output", "{under_a_file}"], ["mlflow-cfn synth:", "--output", "a-file"], 2),
    (
        ["synth", "--portfolio", "--portfolio-product", "{missing}"],
        ["mlflow-cfn synth:", "--portfolio-product", "{missing}"],
        2,
    ),
    (
        ["synth", "--portfolio", "--portfolio-product", "{bad_json}"],
        ["mlflow-cfn synth:", "--portfolio-product", "{bad_json}", "JSON"],
        2,
    ),
    # plan
    (["plan"], ["the following arguments are required: --parameters"], 2),
    (
        ["plan", "--parameters", "{missing}"],
        ["mlflow-cfn plan: --parameters {missing}: no such file"],
        2,
    ),
    (
        ["plan", "--parameters", "{dir}"],
        ["mlflow-cfn plan: --parameters {dir}: is a directory, not a file"],
        2,
    ),
    (
        ["plan", "--parameters", "{ok}", "--template", "{missing}"],
        ["mlflow-cfn plan: --template {missing}: no such file"],
        2,
    ),
    (
        ["plan", "--parameters", "{ok}", "--template", "{bad_json}"],
        ["mlflow-cfn plan: --template {bad_json}: not valid JSON (Expecting property name"],
        2,
    ),
    (
        ["plan", "--parameters", "{ok}", "--template", "{list_json}"],
        ["mlflow-cfn plan: --template {list_json}: a template must be an object (a mapping)"],
        2,
    ),
    # deploy: every case is refused before a CloudFormation call
    (
        ["deploy", "--parameters", "{ok}"],
        ["the following arguments are required: --stack-name"],
        2,
    ),
    (
        ["deploy", "--stack-name", "1mlflow", "--parameters", "{ok}"],
        [
            "argument --stack-name: '1mlflow' is not a valid stack name: it must start with a "
            "letter and contain only letters, digits and hyphens"
        ],
        2,
    ),
    (
        ["deploy", "--stack-name", "ml_flow", "--parameters", "{ok}"],
        ["argument --stack-name: 'ml_flow' is not a valid stack name"],
        2,
    ),
    (
        ["deploy", "--stack-name", "m" * 129, "--parameters", "{ok}"],
        [
            "argument --stack-name: stack name is 129 characters long; CloudFormation allows "
            "at most 128"
        ],
        2,
    ),
    (
        ["deploy", "--stack-name", "mlflow", "--parameters", "{ok}", "--poll-seconds", "0"],
        ["argument --poll-seconds: must be a positive number of seconds, got '0'"],
        2,
    ),
    (
        ["deploy", "--stack-name", "mlflow", "--parameters", "{ok}", "--yes=no"],
        ["argument --yes: ignored explicit argument 'no'"],
        2,
    ),
    (
        ["deploy", "--stack-name", "mlflow", "--parameters", "{missing}"],
        ["mlflow-cfn deploy: --parameters {missing}: no such file"],
        2,
    ),
    (
        ["deploy", "--stack-name", "mlflow", "--parameters", "{ok}", "--template", "{missing}"],
        ["mlflow-cfn deploy: --template {missing}: no such file"],
        2,
    ),
    (
        ["deploy", "--stack-name", "mlflow", "--parameters", "{min_above_max}"],
        [MIN_ABOVE_MAX],
        2,
    ),
    # publish: every case is refused before a Service Catalog or S3 call (exit 2)
    (
        ["publish", "--portfolio", "Data science", "--product", "MLflow"],
        ["the following arguments are required: --version, --bucket"],
        2,
    ),
    (
        [*PUBLISH[:-1], "tpl-bucket"],
        ["the following arguments are required: --version"],
        2,
    ),
    (
        [*PUBLISH, "--version", "v 1"],
        ["mlflow-cfn publish: version 'v 1' must be non-empty without spaces"],
        2,
    ),
    (
        [*PUBLISH, "--version", ""],
        ["mlflow-cfn publish: version '' must be non-empty without spaces"],
        2,
    ),
    (
        [*PUBLISH, "--version", "v1", "--principal", "arn:aws:s3:::bucket"],
        ["mlflow-cfn publish: principal 'arn:aws:s3:::bucket' is not an IAM ARN"],
        2,
    ),
    (
        [*PUBLISH, "--version", "v1", "--principal", "arn:aws:iam::123456789012:role/Data*"],
        ["wildcard ARNs must omit the account id (arn:aws:iam:::role/Name*)"],
        2,
    ),
    (
        [*PUBLISH, "--version", "v1", "--template", "{missing}"],
        ["mlflow-cfn publish: --template {missing}: no such file"],
        2,
    ),
    (
        [*PUBLISH, "--version", "v1", "--template", "{list_json}"],
        ["mlflow-cfn publish: --template {list_json}: a template must be an object"],
        2,
    ),
    # cost
    (
        ["cost", "--hours-per-week", "200"],
        ["--hours-per-week must be a number from 0 to 168 (the hours in a week), got '200'"],
        2,
    ),
    (
        ["cost", "--assume", "artifact_gb"],
        ["--assume 'artifact_gb': expected KEY=VALUE with KEY one of", "artifact_gb"],
        2,
    ),
    (
        ["cost", "--assume", "artifact_gb=-5"],
        ["--assume artifact_gb: the value must be a non-negative number, got '-5'"],
        2,
    ),
    (
        ["cost", "--prices", "{missing}"],
        ["mlflow-cfn cost: {missing}: cannot read: No such file or directory"],
        2,
    ),
    (
        ["cost", "--template", "{missing}"],
        ["mlflow-cfn cost: --template {missing}: no such file"],
        2,
    ),
    (["cost", "--parameters", "{min_above_max}"], ["mlflow-cfn cost:", MIN_ABOVE_MAX], 2),
]


def flag_id(argv: list[str]) -> str:
    """A test id: the command line, with the shared publish flags shortened."""
    return " ".join(argv).replace(" ".join(PUBLISH), "publish ...")[:70] or "(none)"


@pytest.mark.parametrize(
    ("argv", "expected", "code"), FLAG_CASES, ids=[flag_id(argv) for argv, _, _ in FLAG_CASES]
)
def test_bad_flags_are_refused(argv, expected, code, files, capsys):
    argv = [arg.format(**files) for arg in argv]
    assert_refused(*run(argv, capsys), [text.format(**files) for text in expected], code)


# --- parameter files -------------------------------------------------------------------------


def given(**overrides: object) -> dict[str, object]:
    """The required parameters with some values replaced or added."""
    return {**REQUIRED, **overrides}


PARAMETER_FILE_CASES = [
    # file format
    ("{not json", ["not valid JSON (Expecting property name enclosed in double quotes"]),
    ("", ["empty (expected JSON or YAML)"]),
    ("VpcId: [unclosed", ["neither JSON nor YAML"]),
    (
        '"VpcId=vpc-1"',
        [
            "expected a list of {ParameterKey, ParameterValue} objects, a list of "
            "'Key=Value' strings or a {Key: Value} object, got str"
        ],
    ),
    ([{"Key": "VpcId", "Value": "vpc-1"}], ["item 1: unknown field(s) Key, Value"]),
    (["VpcId"], ["item 1: 'VpcId' is not of the form 'Key=Value'"]),
    (
        [
            {"ParameterKey": "VpcId", "ParameterValue": "vpc-1"},
            {"ParameterKey": "VpcId", "ParameterValue": "vpc-2"},
        ],
        ["parameter VpcId is given more than once"],
    ),
    (given(TaskCpu=None), ["value of TaskCpu must be a string, got null"]),
    # names
    (given(DbName="mlflow"), ["Parameters: [DbName] do not exist in the template"]),
    (
        {"VpcId": "vpc-0123456789abcdef0"},
        [
            "Parameters: [DatabaseSubnetIds, LoadBalancerIngressCidrs, "
            "LoadBalancerSubnetIds, ServiceSubnetIds] must have values"
        ],
    ),
    # network
    (given(LoadBalancerIngressCidrs="10.0.0.0/33"), [CIDRS_RULE, "value '10.0.0.0/33'"]),
    (given(LoadBalancerIngressCidrs="10.0.0.0/8, 11.0.0.0/8"), [CIDRS_RULE]),
    (
        given(LoadBalancerIngressCidrs="10.0.0.0/8,10.1.0.0"),
        [CIDRS_RULE, "LoadBalancerIngressCidrs item 2 '10.1.0.0' has no prefix length"],
    ),
    (
        given(LoadBalancerIngressCidrs=",".join(f"10.{i}.0.0/16" for i in range(6))),
        [CIDRS_RULE],
    ),
    (given(DatabaseSubnetIds="subnet-0c"), ["DatabaseSubnetIds", "at least two"]),
    (given(LoadBalancerSubnetIds="subnet-0a"), ["LoadBalancerSubnetIds", "at least two"]),
    # load balancer
    (
        given(CertificateArn="arn:aws:iam::123456789012:server-certificate/mlflow"),
        [
            "Parameter 'CertificateArn' failed to satisfy constraint: CertificateArn must be "
            "empty or an ACM certificate ARN"
        ],
    ),
    (
        given(LoadBalancerScheme="internet-facing"),
        [
            "Rule InternetFacingNeedsCertificate: LoadBalancerScheme=internet-facing needs "
            "CertificateArn"
        ],
    ),
    (
        given(
            LoadBalancerScheme="internet-facing",
            CertificateArn=CERTIFICATE,
            LoadBalancerIngressCidrs="0.0.0.0/0",
        ),
        [
            "Rule InternetFacingNeedsAllowList: LoadBalancerScheme=internet-facing needs an "
            "allow-list in LoadBalancerIngressCidrs, not 0.0.0.0/0"
        ],
    ),
    (given(LoadBalancerScheme="public"), ["LoadBalancerScheme must be internal or internet"]),
    (
        given(DomainName="https://mlflow.example.com"),
        ["DomainName must be empty or a lower-case host name"],
    ),
    # service
    (given(TaskCpu="300"), ["TaskCpu must be one of 256, 512, 1024, 2048, 4096."]),
    (
        given(TaskCpu="256", TaskMemory="8192"),
        ["Rule TaskMemoryFitsCpu256: TaskCpu=256 needs TaskMemory to be one of 1024, 2048"],
    ),
    (given(DesiredCount="two"), ["Parameter 'DesiredCount' must be a number, got 'two'"]),
    (given(DesiredCount="21"), ["DesiredCount must be a whole number from 0 to 20"]),
    (given(DesiredCount="1.5"), ["DesiredCount", "1.5"]),
    (given(MlflowImage="ghcr.io/MLflow/mlflow:latest"), ["MlflowImage must be an image"]),
    # database
    (given(DatabaseMinCapacity="16", DatabaseMaxCapacity="8"), [MIN_ABOVE_MAX]),
    (given(DatabaseMaxCapacity="0.5"), ["DatabaseMaxCapacity must be one of 1, 2, 4, 8"]),
    (
        given(DatabaseBackupRetentionDays="1"),
        ["DatabaseBackupRetentionDays must be from 7 to 35 days", "less than MinValue 7"],
    ),
    (given(DatabaseBackupRetentionDays="7.5"), ["DatabaseBackupRetentionDays", "7.5"]),
    (given(DatabaseAutoPauseSeconds="60"), ["DatabaseAutoPauseSeconds must be from 300"]),
    (
        given(DatabaseDeletionProtection="yes"),
        ["DatabaseDeletionProtection must be true or false"],
    ),
    # artifacts and logs
    (given(ArtifactPrefix="/artifacts/"), [PREFIX_RULE, "value '/artifacts/'"]),
    (given(ArtifactPrefix="teams//ml"), [PREFIX_RULE]),
    (given(ArtifactPrefix="s3://bucket/artifacts"), [PREFIX_RULE]),
    (given(ArtifactNoncurrentVersionDays="0"), ["ArtifactNoncurrentVersionDays must be"]),
    (given(LogRetentionDays="10"), ["LogRetentionDays must be one of CloudWatch's"]),
    # sidecars: never root, as user or as group (uid 0, gid 0, or a name such as root)
    *(
        (given(SidecarUser=user), [SIDECAR_USER_RULE, f"value '{user}'"])
        for user in ("0", "1000:0", "1000:00", "0:1000", "root", "root:root", "1000:root")
    ),
]


def case_id(content: object) -> str:
    """A test id: the values that differ from REQUIRED, or the file content."""
    if isinstance(content, dict) and REQUIRED.keys() <= content.keys():
        return ",".join(
            f"{k}={v}" for k, v in content.items() if k not in REQUIRED or REQUIRED[k] != v
        )
    return repr(content) if isinstance(content, str) else json.dumps(content)[:40]


@pytest.mark.parametrize(
    ("content", "expected"),
    PARAMETER_FILE_CASES,
    ids=[case_id(content) for content, _ in PARAMETER_FILE_CASES],
)
def test_bad_parameter_files_are_refused_by_plan(content, expected, tmp_path, capsys):
    path = tmp_path / "parameters.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    code, err = run(["plan", "--parameters", str(path)], capsys)
    assert_refused(code, err, ["mlflow-cfn plan: ", *expected], 2)


def test_every_error_of_a_parameter_file_is_reported_at_once(tmp_path, capsys):
    path = tmp_path / "parameters.json"
    path.write_text(json.dumps(given(TaskCpu="300", ArtifactPrefix="/a", LogRetentionDays="10")))
    code, err = run(["plan", "--parameters", str(path)], capsys)
    assert_refused(
        code,
        err,
        ["TaskCpu must be one of", "ArtifactPrefix must be path segments", "LogRetentionDays"],
        2,
    )


def test_the_commands_do_not_need_the_repository_layout(tmp_path, capsys, monkeypatch):
    """Run elsewhere, the default template is the product template built in memory (as synth
    builds it): plan works, and a refusal names the input, not a missing file."""
    monkeypatch.chdir(tmp_path)
    Path("parameters.json").write_text(json.dumps(REQUIRED))
    assert main(["plan", "--parameters", "parameters.json"]) == 0
    assert capsys.readouterr().out.startswith("Plan: ")
    Path("parameters.json").write_text(json.dumps({**REQUIRED, "TaskCpu": "300"}))
    code, err = run(["plan", "--parameters", "file://parameters.json"], capsys)
    assert_refused(code, err, ["mlflow-cfn plan: ", "TaskCpu"], 2)
