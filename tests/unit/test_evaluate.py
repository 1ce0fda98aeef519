"""Unit tests of mlflow_cfn.cfn.evaluate on small hand-written templates."""

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from mlflow_cfn.cfn.evaluate import (
    EvaluationError,
    ParameterError,
    TemplateError,
    evaluate,
    load_parameters,
    render_template,
)


def template(resources: dict | None = None, **sections: Any) -> dict:
    """A template with the given sections; a single placeholder resource unless told."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        **sections,
        "Resources": resources or {"Topic": {"Type": "AWS::SNS::Topic"}},
    }


def props(value: Any, **sections: Any) -> Any:
    """The rendered `Value` property of a one-resource template holding `value`."""
    resources = {"Thing": {"Type": "Test::Thing", "Properties": {"Value": value}}}
    resources.update(sections.pop("extra_resources", {}))
    parameters = sections.pop("parameters", None)
    evaluated = evaluate(template(resources, **sections), parameters)
    return evaluated.resource("Thing")["Properties"].get("Value", "<absent>")


def parameter_errors(parameters_section: dict, given: dict | None = None, **sections: Any) -> list:
    """The ParameterError.errors evaluating a template with these parameters gives."""
    with pytest.raises(ParameterError) as info:
        evaluate(template(Parameters=parameters_section, **sections), given)
    return info.value.errors


def template_errors(resources: dict, parameters: dict | None = None, **sections: Any) -> list:
    """The TemplateError.errors evaluating a template gives."""
    with pytest.raises(TemplateError) as info:
        evaluate(template(resources, **sections), parameters)
    return info.value.errors


# --- load_parameters -----------------------------------------------------------------------


def write(tmp_path: Path, content: Any) -> Path:
    """A parameter file holding `content` (JSON-encoded unless already a string)."""
    path = tmp_path / "params.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_load_parameters_create_stack_list_form(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            {"ParameterKey": "Env", "ParameterValue": "prod"},
            {"ParameterKey": "Port", "ParameterValue": "5432", "UsePreviousValue": False},
        ],
    )
    assert load_parameters(path) == {"Env": "prod", "Port": "5432"}
    assert load_parameters(str(path)) == {"Env": "prod", "Port": "5432"}


def test_load_parameters_deploy_object_form_joins_lists_and_stringifies_numbers() -> None:
    loaded = load_parameters({"Env": "dev", "Subnets": ["subnet-a", "subnet-b"], "Port": 5432})
    assert loaded == {"Env": "dev", "Subnets": "subnet-a,subnet-b", "Port": "5432"}


def test_load_parameters_key_equals_value_strings(tmp_path: Path) -> None:
    path = write(tmp_path, ["Env=prod", "Query=a=b", "Empty="])
    assert load_parameters(path) == {"Env": "prod", "Query": "a=b", "Empty": ""}


def test_load_parameters_refuses_use_previous_value() -> None:
    with pytest.raises(ParameterError) as info:
        load_parameters([{"ParameterKey": "Env", "UsePreviousValue": True}])
    assert info.value.errors == [
        "parameters: item 1 (Env): UsePreviousValue needs the deployed stack's value and "
        "cannot be evaluated offline; give a ParameterValue instead"
    ]


def test_load_parameters_not_json(tmp_path: Path) -> None:
    path = write(tmp_path, "{not json")
    with pytest.raises(ParameterError, match=r"params\.json: not valid JSON: Expecting"):
        load_parameters(path)


def test_load_parameters_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"nope\.json: cannot read: No such file"):
        load_parameters(tmp_path / "nope.json")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (True, "parameters: expected a list of {ParameterKey, ParameterValue} objects"),
        (42, "a {Key: Value} object, got int"),
        ([{"ParameterValue": "x"}], "parameters: item 1: missing ParameterKey"),
        ([{"ParameterKey": 3, "ParameterValue": "x"}], "item 1: ParameterKey must be a non-empty"),
        ([{"ParameterKey": "A"}], "parameters: item 1 (A): missing ParameterValue"),
        ([{"ParameterKey": "A", "Value": "x"}], "parameters: item 1: unknown field(s) Value"),
        (["NoEquals"], "parameters: item 1: 'NoEquals' is not of the form 'Key=Value'"),
        (["=value"], "item 1: '=value' is not of the form 'Key=Value'"),
        ([7], "parameters: item 1: expected an object or a 'Key=Value' string, got 7"),
        ({5: "x"}, "parameters: parameter name 5 must be a non-empty string"),
        ({"A": None}, "parameters: value of A must be a string, got null"),
        ({"A": {"x": 1}}, 'parameters: value of A must be a string, got {"x": 1}'),
        (["A=1", "A=2"], "parameters: parameter A is given more than once"),
    ],
)
def test_load_parameters_malformed(data: Any, message: str) -> None:
    with pytest.raises(ParameterError) as info:
        load_parameters(data)
    assert len(info.value.errors) == 1
    assert message in info.value.errors[0]


def test_load_parameters_reports_every_problem_at_once() -> None:
    with pytest.raises(ParameterError) as info:
        load_parameters([{"ParameterValue": "x"}, {"ParameterKey": "B"}, {"ParameterKey": "C"}])
    assert info.value.errors == [
        "parameters: item 1: missing ParameterKey",
        "parameters: item 2 (B): missing ParameterValue",
        "parameters: item 3 (C): missing ParameterValue",
    ]
    assert str(info.value) == "\n".join(info.value.errors)
    assert isinstance(info.value, ValueError)


def test_loaded_parameters_feed_evaluate(tmp_path: Path) -> None:
    path = write(tmp_path, {"Env": "prod"})
    t = template(Parameters={"Env": {"Type": "String"}})
    assert evaluate(t, load_parameters(path)).parameters == {"Env": "prod"}


# --- parameters ------------------------------------------------------------------------------


def test_defaults_apply_and_overrides_win() -> None:
    section = {
        "A": {"Type": "String", "Default": "a-default"},
        "B": {"Type": "String", "Default": "b-default"},
        "Port": {"Type": "Number", "Default": 5432},
    }
    evaluated = evaluate(template(Parameters=section), {"B": "b-given"})
    assert evaluated.parameters == {"A": "a-default", "B": "b-given", "Port": "5432"}


def test_unknown_parameter_is_refused() -> None:
    errors = parameter_errors({"A": {"Type": "String", "Default": "x"}}, {"X": "1", "Y": "2"})
    assert errors == ["Parameters: [X, Y] do not exist in the template"]


def test_parameter_without_value_is_refused() -> None:
    errors = parameter_errors({"A": {"Type": "String"}, "B": {"Type": "String"}}, {})
    assert errors == ["Parameters: [A, B] must have values"]


def test_empty_string_is_a_value() -> None:
    t = template(Parameters={"A": {"Type": "String"}})
    assert evaluate(t, {"A": ""}).parameters == {"A": ""}


def test_allowed_values_without_description() -> None:
    section = {"Env": {"Type": "String", "AllowedValues": ["dev", "prod"]}}
    assert parameter_errors(section, {"Env": "qa"}) == [
        "Parameter 'Env' value 'qa' is not one of AllowedValues [dev, prod]"
    ]


def test_allowed_values_with_constraint_description() -> None:
    section = {
        "Env": {
            "Type": "String",
            "AllowedValues": ["dev", "prod"],
            "ConstraintDescription": "must be dev or prod",
        }
    }
    assert parameter_errors(section, {"Env": "qa"}) == [
        "Parameter 'Env' failed to satisfy constraint: must be dev or prod "
        "(value 'qa' is not one of AllowedValues [dev, prod])"
    ]


def test_allowed_pattern_must_match_fully() -> None:
    section = {"Name": {"Type": "String", "AllowedPattern": "[a-z]+"}}
    assert evaluate(template(Parameters=section), {"Name": "abc"}).parameters == {"Name": "abc"}
    assert parameter_errors(section, {"Name": "abc1"}) == [
        "Parameter 'Name' value 'abc1' does not match AllowedPattern '[a-z]+'"
    ]


def test_allowed_pattern_applies_to_each_list_element() -> None:
    section = {
        "Cidrs": {
            "Type": "CommaDelimitedList",
            "AllowedPattern": r"\d+\.\d+\.\d+\.\d+/\d+",
            "ConstraintDescription": "each must be a CIDR block",
        }
    }
    errors = parameter_errors(section, {"Cidrs": "10.0.0.0/16, nope, 10.1.0.0/16,x"})
    assert errors == [
        "Parameter 'Cidrs' failed to satisfy constraint: each must be a CIDR block "
        "(value 'nope' does not match its AllowedPattern)",
        "Parameter 'Cidrs' failed to satisfy constraint: each must be a CIDR block "
        "(value 'x' does not match its AllowedPattern)",
    ]


def test_allowed_values_apply_to_each_list_element() -> None:
    section = {
        "Zones": {"Type": "List<AWS::EC2::AvailabilityZone::Name>", "AllowedValues": ["a", "b"]}
    }
    t = template(Parameters=section)
    assert evaluate(t, {"Zones": "a,b"}).parameters == {"Zones": ["a", "b"]}
    assert parameter_errors(section, {"Zones": "a,c"}) == [
        "Parameter 'Zones' value 'c' is not one of AllowedValues [a, b]"
    ]


def test_min_and_max_length() -> None:
    section = {
        "Short": {"Type": "String", "MinLength": 3},
        "Long": {"Type": "String", "MaxLength": "4", "ConstraintDescription": "at most 4 chars"},
    }
    assert parameter_errors(section, {"Short": "ab", "Long": "abcde"}) == [
        "Parameter 'Short' value 'ab' is shorter than MinLength 3 (2 characters)",
        "Parameter 'Long' failed to satisfy constraint: at most 4 chars "
        "(value 'abcde' is longer than MaxLength 4 (5 characters))",
    ]
    t = template(Parameters=section)
    assert evaluate(t, {"Short": "abc", "Long": "abcd"}).parameters == {
        "Short": "abc",
        "Long": "abcd",
    }


def test_min_and_max_value() -> None:
    section = {"Port": {"Type": "Number", "MinValue": 1024, "MaxValue": 65535}}
    assert parameter_errors(section, {"Port": "80"}) == [
        "Parameter 'Port' value '80' is less than MinValue 1024"
    ]
    assert parameter_errors(section, {"Port": "70000"}) == [
        "Parameter 'Port' value '70000' is greater than MaxValue 65535"
    ]
    assert evaluate(template(Parameters=section), {"Port": "1024.0"}).parameters == {
        "Port": "1024.0"
    }


def test_list_of_numbers_checks_each_element() -> None:
    section = {"Sizes": {"Type": "List<Number>", "MinValue": 1, "MaxValue": 10}}
    assert evaluate(template(Parameters=section), {"Sizes": "1, 5,10"}).parameters == {
        "Sizes": ["1", "5", "10"]
    }
    assert parameter_errors(section, {"Sizes": "0,5,11,x"}) == [
        "Parameter 'Sizes' must be a number, got 'x'",
        "Parameter 'Sizes' value '0' is less than MinValue 1",
        "Parameter 'Sizes' value '11' is greater than MaxValue 10",
    ]


@pytest.mark.parametrize("value", ["12abc", "nan", "inf", "1_000", "", " 5"])
def test_number_must_parse(value: str) -> None:
    errors = parameter_errors({"N": {"Type": "Number"}}, {"N": value})
    assert errors == [f"Parameter 'N' must be a number, got '{value}'"]


@pytest.mark.parametrize("value", ["5", "-3", "+2.5", ".5", "1e3", "7."])
def test_numbers_accepted(value: str) -> None:
    assert evaluate(template(Parameters={"N": {"Type": "Number"}}), {"N": value}).parameters == {
        "N": value
    }


def test_number_allowed_values_compare_numerically() -> None:
    section = {"N": {"Type": "Number", "AllowedValues": [1, 5]}}
    assert evaluate(template(Parameters=section), {"N": "5.0"}).parameters == {"N": "5.0"}
    assert parameter_errors(section, {"N": "2"}) == [
        "Parameter 'N' value '2' is not one of AllowedValues [1, 5]"
    ]


def test_no_echo_values_are_not_shown() -> None:
    section = {"Secret": {"Type": "String", "NoEcho": True, "MinLength": 8}}
    assert parameter_errors(section, {"Secret": "hunter2"}) == [
        "Parameter 'Secret' value '****' is shorter than MinLength 8 (7 characters)"
    ]


def test_every_parameter_problem_is_reported_at_once() -> None:
    section = {
        "Env": {"Type": "String", "AllowedValues": ["dev", "prod"]},
        "Name": {"Type": "String", "AllowedPattern": "[a-z]+", "MaxLength": 3},
        "Port": {"Type": "Number"},
        "Needed": {"Type": "String"},
    }
    rules = {
        "ProdNeedsBigName": {
            "RuleCondition": {"Fn::Equals": [{"Ref": "Env"}, "qa"]},
            "Assertions": [
                {
                    "Assert": {"Fn::Equals": [{"Ref": "Name"}, "big"]},
                    "AssertDescription": "qa needs big",
                }
            ],
        }
    }
    errors = parameter_errors(
        section, {"Env": "qa", "Name": "AB12", "Port": "x", "Bogus": "1"}, Rules=rules
    )
    assert errors == [
        "Parameters: [Bogus] do not exist in the template",
        "Parameters: [Needed] must have values",
        "Parameter 'Env' value 'qa' is not one of AllowedValues [dev, prod]",
        "Parameter 'Name' value 'AB12' does not match AllowedPattern '[a-z]+'",
        "Parameter 'Name' value 'AB12' is longer than MaxLength 3 (4 characters)",
        "Parameter 'Port' must be a number, got 'x'",
        "Rule ProdNeedsBigName: qa needs big",
    ]


def test_list_parameters_are_split_and_stripped() -> None:
    section = {
        "Names": {"Type": "CommaDelimitedList", "Default": " a , b,c "},
        "Empty": {"Type": "CommaDelimitedList", "Default": ""},
        "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>"},
        "Vpc": {"Type": "AWS::EC2::VPC::Id"},
        "Ami": {"Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"},
        "SsmList": {"Type": "AWS::SSM::Parameter::Value<List<String>>"},
        "SsmName": {"Type": "AWS::SSM::Parameter::Name"},
    }
    given = {
        "Subnets": "subnet-1,subnet-2",
        "Vpc": "vpc-1",
        "Ami": "ami-123",
        "SsmList": "x,y",
        "SsmName": "/my/param",
    }
    assert evaluate(template(Parameters=section), given).parameters == {
        "Names": ["a", "b", "c"],
        "Empty": [""],
        "Subnets": ["subnet-1", "subnet-2"],
        "Vpc": "vpc-1",
        "Ami": "ami-123",
        "SsmList": ["x", "y"],
        "SsmName": "/my/param",
    }


def test_list_default_given_as_json_list_is_joined() -> None:
    t = template(Parameters={"L": {"Type": "CommaDelimitedList", "Default": ["a", "b"]}})
    assert evaluate(t).parameters == {"L": ["a", "b"]}


@pytest.mark.parametrize("bad_type", ["Strng", "List<String>", "AWS::SSM::Parameter::Value<Int>"])
def test_unrecognized_parameter_type_is_a_template_error(bad_type: str) -> None:
    with pytest.raises(TemplateError) as info:
        evaluate(template(Parameters={"P": {"Type": bad_type, "Default": "x"}}))
    assert info.value.errors == [f"Parameter 'P' has an unrecognized Type '{bad_type}'"]


def test_invalid_allowed_pattern_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="AllowedPattern '\\[' is not a valid regex"):
        evaluate(
            template(Parameters={"P": {"Type": "String", "Default": "x", "AllowedPattern": "["}})
        )


def test_evaluate_refuses_non_string_parameter_values() -> None:
    errors = parameter_errors({"P": {"Type": "String"}}, {"P": {"a": 1}})
    assert errors == ["Parameter 'P' value must be a string, got {\"a\": 1}"]


def test_parameter_errors_are_evaluation_errors() -> None:
    assert issubclass(ParameterError, EvaluationError)
    assert issubclass(TemplateError, EvaluationError)


# --- pseudo parameters -----------------------------------------------------------------------


def pseudo(name: str, **kwargs: Any) -> Any:
    """The value of one pseudo parameter in a stack built with `kwargs`."""
    t = template({"R": {"Type": "Test::R", "Properties": {"V": {"Ref": name}}}})
    return evaluate(t, **kwargs).resource("R")["Properties"]["V"]


def test_pseudo_parameters_default() -> None:
    assert pseudo("AWS::Region") == "us-east-1"
    assert pseudo("AWS::AccountId") == "123456789012"
    assert pseudo("AWS::StackName") == "mlflow"
    assert pseudo("AWS::Partition") == "aws"
    assert pseudo("AWS::URLSuffix") == "amazonaws.com"
    assert pseudo("AWS::NotificationARNs") == []


def test_stack_id_is_a_deterministic_arn() -> None:
    stack_id = pseudo("AWS::StackId", region="eu-west-1", account_id="111122223333")
    assert stack_id.startswith("arn:aws:cloudformation:eu-west-1:111122223333:stack/mlflow/")
    assert len(stack_id.rsplit("/", 1)[1]) == 36
    assert stack_id == pseudo("AWS::StackId", region="eu-west-1", account_id="111122223333")


@pytest.mark.parametrize(
    ("region", "partition", "suffix"),
    [
        ("cn-north-1", "aws-cn", "amazonaws.com.cn"),
        ("cn-northwest-1", "aws-cn", "amazonaws.com.cn"),
        ("us-gov-west-1", "aws-us-gov", "amazonaws.com"),
        ("eu-central-1", "aws", "amazonaws.com"),
    ],
)
def test_partition_and_url_suffix_follow_region(region: str, partition: str, suffix: str) -> None:
    assert pseudo("AWS::Partition", region=region) == partition
    assert pseudo("AWS::URLSuffix", region=region) == suffix
    assert pseudo("AWS::Region", region=region) == region


def test_explicit_partition_and_stack_name() -> None:
    assert pseudo("AWS::Partition", partition="aws-iso") == "aws-iso"
    assert pseudo("AWS::StackName", stack_name="other") == "other"


# --- conditions ------------------------------------------------------------------------------

CONDITION_PARAMETERS = {
    "Env": {"Type": "String", "Default": "dev"},
    "Flags": {"Type": "CommaDelimitedList", "Default": "a,b"},
}


def conditions(section: dict, given: dict | None = None, **sections: Any) -> dict[str, bool]:
    """The evaluated conditions of a template with CONDITION_PARAMETERS."""
    t = template(Parameters=CONDITION_PARAMETERS, Conditions=section, **sections)
    return evaluate(t, given).conditions


def test_condition_functions() -> None:
    section = {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
        "Both": {"Fn::And": [{"Condition": "IsDev"}, {"Fn::Equals": ["x", "x"]}]},
        "Either": {"Fn::Or": [{"Condition": "IsProd"}, {"Fn::Equals": ["x", "y"]}]},
    }
    assert conditions(section) == {"IsProd": False, "IsDev": True, "Both": True, "Either": False}
    assert conditions(section, {"Env": "prod"}) == {
        "IsProd": True,
        "IsDev": False,
        "Both": False,
        "Either": True,
    }


def test_conditions_use_other_intrinsics() -> None:
    section = {
        "Mapped": {"Fn::Equals": [{"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Big"]}, "yes"]},
        "Joined": {"Fn::Equals": [{"Fn::Join": ["-", {"Ref": "Flags"}]}, "a-b"]},
        "Selected": {"Fn::Equals": [{"Fn::Select": [1, {"Ref": "Flags"}]}, "b"]},
        "Split": {"Fn::Equals": [{"Fn::Select": ["0", {"Fn::Split": [",", "q,r"]}]}, "q"]},
        "Subbed": {"Fn::Equals": [{"Fn::Sub": "${Env}-${AWS::Region}"}, "dev-us-east-1"]},
        "Lists": {"Fn::Equals": [{"Ref": "Flags"}, ["a", "b"]]},
        "Scalars": {"Fn::Equals": [5, "5"]},
        "Booleans": {"Fn::Equals": [True, "true"]},
    }
    mappings = {"Sizes": {"dev": {"Big": "yes"}}}
    assert conditions(section, Mappings=mappings) == dict.fromkeys(section, True)


def test_condition_cycle_is_detected() -> None:
    section = {
        "A": {"Fn::Not": [{"Condition": "B"}]},
        "B": {"Fn::And": [{"Condition": "C"}, {"Fn::Equals": ["x", "x"]}]},
        "C": {"Fn::Not": [{"Condition": "A"}]},
    }
    with pytest.raises(TemplateError) as info:
        conditions(section)
    assert info.value.errors[0] == "Conditions.A: Conditions form a cycle: A -> B -> C -> A"


def test_undefined_condition() -> None:
    with pytest.raises(TemplateError, match="Condition 'Missing' is not defined in Conditions"):
        conditions({"A": {"Fn::Not": [{"Condition": "Missing"}]}})


def test_conditions_cannot_refer_to_resources() -> None:
    with pytest.raises(TemplateError) as info:
        conditions({"A": {"Fn::Equals": [{"Ref": "Topic"}, "x"]}})
    assert info.value.errors == ["Conditions.A: Conditions cannot refer to resource Topic (Ref)"]


def test_fn_if_is_not_a_condition_function() -> None:
    with pytest.raises(TemplateError, match="Fn::If cannot be used in Conditions"):
        conditions({"A": {"Fn::If": ["B", "x", "y"]}, "B": {"Fn::Equals": ["x", "x"]}})


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"Fn::And": [{"Fn::Equals": ["a", "a"]}]}, "Fn::And takes a list of 2 to 10 arguments"),
        ({"Fn::Equals": ["a"]}, "Fn::Equals takes a list of 2 arguments"),
        ({"Fn::Not": [{"Ref": "Env"}]}, "expected a condition function in Conditions"),
        ("true", "expected a condition function in Conditions"),
    ],
)
def test_malformed_conditions(definition: Any, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        conditions({"A": definition})


# --- intrinsic functions ---------------------------------------------------------------------


def test_ref_to_parameter_pseudo_and_resource() -> None:
    resources = {
        "Bucket": {"Type": "AWS::S3::Bucket"},
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Thing": {
            "Type": "Test::Thing",
            "Properties": {
                "P": {"Ref": "Env"},
                "R": {"Ref": "AWS::Region"},
                "B": {"Ref": "Bucket"},
                "Q": {"Ref": "Queue"},
            },
        },
    }
    t = template(resources, Parameters={"Env": {"Type": "String", "Default": "dev"}})
    evaluated = evaluate(t, physical_ids={"Bucket": "my-bucket"})
    assert evaluated.resource("Thing")["Properties"] == {
        "P": "dev",
        "R": "us-east-1",
        "B": "my-bucket",
        "Q": "<Queue>",
    }


def test_ref_to_unknown_name() -> None:
    errors = template_errors({"T": {"Type": "X::Y", "Properties": {"V": {"Ref": "Nope"}}}})
    assert errors == [
        "Resources.T: Ref to Nope, which is no parameter, resource or pseudo parameter"
    ]


def test_get_att_forms_and_attributes() -> None:
    resources = {
        "Db": {"Type": "AWS::RDS::DBCluster"},
        "Thing": {
            "Type": "Test::Thing",
            "Properties": {
                "List": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
                "String": {"Fn::GetAtt": "Db.MasterUserSecret.SecretArn"},
                "Given": {"Fn::GetAtt": ["Db", "Endpoint.Port"]},
                "ByParameter": {"Fn::GetAtt": ["Db", {"Ref": "Attr"}]},
            },
        },
    }
    t = template(resources, Parameters={"Attr": {"Type": "String", "Default": "Arn"}})
    evaluated = evaluate(t, attributes={"Db.Endpoint.Port": "5432", "Db.Arn": "arn:db"})
    assert evaluated.resource("Thing")["Properties"] == {
        "List": "<Db.Endpoint.Address>",
        "String": "<Db.MasterUserSecret.SecretArn>",
        "Given": "5432",
        "ByParameter": "arn:db",
    }


def test_get_att_to_unknown_resource() -> None:
    errors = template_errors({"T": {"Type": "X::Y", "Properties": {"V": {"Fn::GetAtt": "No.Arn"}}}})
    assert errors == ["Resources.T: Fn::GetAtt to No, which is not a resource of the template"]


def test_sub_string_form() -> None:
    resources = {"Bucket": {"Type": "AWS::S3::Bucket"}}
    value = {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/${Env}/${ Bucket.Arn }-${!Literal}"}
    parameters = {"Env": {"Type": "String", "Default": "dev"}}
    assert (
        props(value, extra_resources=resources, Parameters=parameters)
        == "arn:aws:s3:::<Bucket>/dev/<Bucket.Arn>-${Literal}"
    )


def test_sub_list_form_variables_override_names() -> None:
    value = {
        "Fn::Sub": [
            "${Env}:${Name}:${AWS::AccountId}",
            {"Name": {"Fn::Join": ["-", ["a", "b"]]}, "Env": "overridden"},
        ]
    }
    parameters = {"Env": {"Type": "String", "Default": "dev"}}
    assert props(value, Parameters=parameters) == "overridden:a-b:123456789012"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Fn::Sub": "${Nope}"}, "Fn::Sub to Nope, which is no parameter, resource"),
        ({"Fn::Sub": "${AWS::NotificationARNs}"}, "Fn::Sub variable ${AWS::NotificationARNs}"),
        ({"Fn::Sub": ["${A}", ["A"]]}, "Fn::Sub takes [string, {variables}]"),
        ({"Fn::Sub": 5}, "Fn::Sub takes a list of 2 arguments"),
    ],
)
def test_sub_errors(value: Any, message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("$", r"\$").replace("[", r"\[")):
        props(value)


def test_join_with_list_parameter_and_numbers() -> None:
    parameters = {"L": {"Type": "CommaDelimitedList", "Default": "x,y"}}
    assert props({"Fn::Join": [":", {"Ref": "L"}]}, Parameters=parameters) == "x:y"
    assert props({"Fn::Join": ["", ["a", 1, True]]}) == "a1true"
    assert props({"Fn::Join": ["/", []]}) == ""
    assert props({"Fn::Join": [",", ["a", {"Ref": "AWS::NoValue"}, "b"]]}) == "a,b"


def test_join_needs_a_list() -> None:
    with pytest.raises(TemplateError, match='Fn::Join needs a list, got "abc"'):
        props({"Fn::Join": [",", "abc"]})


def test_select_index_forms() -> None:
    parameters = {"I": {"Type": "Number", "Default": "2"}}
    assert props({"Fn::Select": [0, ["a", "b", "c"]]}) == "a"
    assert props({"Fn::Select": ["1", ["a", "b", "c"]]}) == "b"
    assert props({"Fn::Select": [{"Ref": "I"}, ["a", "b", "c"]]}, Parameters=parameters) == "c"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Fn::Select": [2, ["a", "b"]]}, "Fn::Select index 2 is out of range for a list of 2"),
        ({"Fn::Select": [-1, ["a", "b"]]}, "Fn::Select index must be an integer, got -1"),
        ({"Fn::Select": ["x", ["a"]]}, 'Fn::Select index must be an integer, got "x"'),
        ({"Fn::Select": [0, "a,b"]}, 'Fn::Select needs a list, got "a,b"'),
    ],
)
def test_select_errors(value: Any, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        props(value)


def test_split() -> None:
    assert props({"Fn::Split": [",", "a,b,,c"]}) == ["a", "b", "", "c"]
    assert (
        props({"Fn::Select": [2, {"Fn::Split": ["|", {"Fn::Sub": "x|${AWS::Region}|z"}]}]}) == "z"
    )
    with pytest.raises(TemplateError, match="Fn::Split delimiter must not be empty"):
        props({"Fn::Split": ["", "abc"]})


MAPPINGS = {"Regions": {"us-east-1": {"Ami": "ami-1", "Zones": ["a", "b"]}}}


def test_find_in_map() -> None:
    value = {"Fn::FindInMap": ["Regions", {"Ref": "AWS::Region"}, "Ami"]}
    assert props(value, Mappings=MAPPINGS) == "ami-1"
    assert props({"Fn::FindInMap": ["Regions", "us-east-1", "Zones"]}, Mappings=MAPPINGS) == [
        "a",
        "b",
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["Nope", "us-east-1", "Ami"], "Fn::FindInMap: no mapping 'Nope' in Mappings"),
        (["Regions", "eu-west-1", "Ami"], "mapping 'Regions' has no key 'eu-west-1'"),
        (
            ["Regions", "us-east-1", "Kernel"],
            "mapping 'Regions' key 'us-east-1' has no key 'Kernel'",
        ),
    ],
)
def test_find_in_map_missing_keys(arguments: list, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        props({"Fn::FindInMap": arguments}, Mappings=MAPPINGS)


def test_base64() -> None:
    expected = base64.b64encode(b"#!/bin/bash\necho dev").decode()
    parameters = {"Env": {"Type": "String", "Default": "dev"}}
    value = {"Fn::Base64": {"Fn::Sub": "#!/bin/bash\necho ${Env}"}}
    assert props(value, Parameters=parameters) == expected


def test_get_azs() -> None:
    assert props({"Fn::GetAZs": ""}) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert props({"Fn::GetAZs": {"Ref": "AWS::Region"}}) == [
        "us-east-1a",
        "us-east-1b",
        "us-east-1c",
    ]
    assert props({"Fn::GetAZs": "eu-west-3"}) == ["eu-west-3a", "eu-west-3b", "eu-west-3c"]


def test_import_value_placeholder() -> None:
    value = {"Fn::ImportValue": {"Fn::Sub": "${AWS::StackName}-VpcId"}}
    assert props(value) == "<ImportValue:mlflow-VpcId>"


def test_cidr_ipv4_and_ipv6() -> None:
    assert props({"Fn::Cidr": ["192.168.0.0/24", "6", "5"]}) == [
        "192.168.0.0/27",
        "192.168.0.32/27",
        "192.168.0.64/27",
        "192.168.0.96/27",
        "192.168.0.128/27",
        "192.168.0.160/27",
    ]
    assert props({"Fn::Cidr": ["2001:db8::/56", 2, 64]}) == ["2001:db8::/64", "2001:db8:0:1::/64"]
    assert props({"Fn::Select": [1, {"Fn::Cidr": ["10.0.0.0/16", 2, 8]}]}) == "10.0.1.0/24"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["10.0.0.0/24", 0, 4], "Fn::Cidr count must be between 1 and 256, got 0"),
        (["10.0.0.0/24", 257, 4], "Fn::Cidr count must be between 1 and 256, got 257"),
        (["10.0.0.0/24", 5, 6], "10.0.0.0/24 holds only 4 blocks of /26, not 5"),
        (["10.0.0.0/24", 1, 9], "cannot make blocks with 9 host bits inside 10.0.0.0/24"),
        (["bogus", 1, 8], "Fn::Cidr ipBlock 'bogus' is not a CIDR block$"),
    ],
)
def test_cidr_errors(arguments: list, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        props({"Fn::Cidr": arguments})


def test_cidr_on_placeholder_attribute_hints_at_attributes() -> None:
    resources = {
        "Vpc": {"Type": "AWS::EC2::VPC"},
        "Thing": {
            "Type": "Test::Thing",
            "Properties": {"V": {"Fn::Cidr": [{"Fn::GetAtt": ["Vpc", "CidrBlock"]}, 1, 8]}},
        },
    }
    with pytest.raises(TemplateError, match=r"'<Vpc\.CidrBlock>' is not a CIDR block \(pass"):
        evaluate(template(resources))
    given = evaluate(template(resources), attributes={"Vpc.CidrBlock": "10.1.0.0/16"})
    assert given.resource("Thing")["Properties"]["V"] == ["10.1.0.0/24"]


def test_unknown_intrinsic_and_misplaced_condition_functions() -> None:
    with pytest.raises(TemplateError, match="unknown intrinsic function Fn::Bogus"):
        props({"Fn::Bogus": []})
    with pytest.raises(TemplateError, match="Fn::Equals cannot be used in Resources"):
        props({"Fn::Equals": ["a", "a"]})


def test_plain_condition_key_in_properties_is_data() -> None:
    statement = {"Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    assert props(statement) == statement


# --- AWS::NoValue and Fn::If -----------------------------------------------------------------

IF_SECTIONS: dict[str, Any] = {
    "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
    "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
}


def test_no_value_removes_keys_and_list_items() -> None:
    value = {
        "Keep": "k",
        "Gone": {"Ref": "AWS::NoValue"},
        "IfGone": {"Fn::If": ["IsProd", "p", {"Ref": "AWS::NoValue"}]},
        "IfKept": {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, "d"]},
        "List": [
            "a",
            {"Ref": "AWS::NoValue"},
            {"Fn::If": ["IsProd", "b", {"Ref": "AWS::NoValue"}]},
        ],
    }
    assert props(value, **IF_SECTIONS) == {"Keep": "k", "IfKept": "d", "List": ["a"]}
    assert props(value, parameters={"Env": "prod"}, **IF_SECTIONS) == {
        "Keep": "k",
        "IfGone": "p",
        "List": ["a", "b"],
    }


def test_no_value_removes_a_whole_property() -> None:
    value = {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]}
    assert props(value, **IF_SECTIONS) == "<absent>"


def test_fn_if_is_lazy() -> None:
    resources = {
        "ProdOnly": {"Type": "AWS::SNS::Topic", "Condition": "IsProd"},
        "Thing": {
            "Type": "Test::Thing",
            "Properties": {
                "Value": {"Fn::If": ["IsProd", {"Ref": "ProdOnly"}, "none"]},
                "Other": {"Fn::If": ["IsProd", {"Fn::FindInMap": ["Nope", "a", "b"]}, "fine"]},
            },
        },
    }
    dev = evaluate(template(resources, **IF_SECTIONS))
    assert dev.resource("Thing")["Properties"] == {"Value": "none", "Other": "fine"}
    with pytest.raises(TemplateError, match="no mapping 'Nope'"):
        evaluate(template(resources, **IF_SECTIONS), {"Env": "prod"})


def test_fn_if_with_unknown_condition() -> None:
    with pytest.raises(TemplateError, match="Condition 'Nope' is not defined"):
        props({"Fn::If": ["Nope", "a", "b"]})


# --- resources -------------------------------------------------------------------------------


def conditional_resources(**extra: dict) -> dict:
    """Resources where ProdOnly exists only when IsProd is true."""
    return {
        "ProdOnly": {"Type": "AWS::SNS::Topic", "Condition": "IsProd"},
        "Always": {"Type": "AWS::SQS::Queue"},
        **extra,
    }


def test_false_condition_resources_are_absent() -> None:
    t = template(conditional_resources(), **IF_SECTIONS)
    assert list(evaluate(t).resources) == ["Always"]
    prod = evaluate(t, {"Env": "prod"})
    assert list(prod.resources) == ["ProdOnly", "Always"]
    assert prod.resource("ProdOnly") == {"Type": "AWS::SNS::Topic"}


def test_reference_to_a_resource_not_created_is_an_error() -> None:
    resources = conditional_resources(
        User={
            "Type": "Test::User",
            "Properties": {"A": {"Ref": "ProdOnly"}, "B": {"Fn::Sub": "${ProdOnly.TopicName}"}},
        },
        DependsOnIt={"Type": "Test::User", "DependsOn": ["Always", "ProdOnly"]},
    )
    errors = template_errors(resources, **IF_SECTIONS)
    assert errors == [
        "Resources.User: Ref to resource ProdOnly, which is not created "
        "(its Condition IsProd is false)",
        "Resources.DependsOnIt: DependsOnIt DependsOn ProdOnly, which is not created "
        "(its Condition IsProd is false)",
    ]


def test_depends_on_is_kept_and_checked() -> None:
    resources = conditional_resources(
        A={"Type": "Test::A", "DependsOn": "Always"},
        B={"Type": "Test::B", "DependsOn": ["Always", "A"]},
    )
    evaluated = evaluate(template(resources, **IF_SECTIONS))
    assert evaluated.resource("A")["DependsOn"] == "Always"
    assert evaluated.resource("B")["DependsOn"] == ["Always", "A"]
    errors = template_errors({"A": {"Type": "Test::A", "DependsOn": "Ghost"}})
    assert errors == ["Resources.A: DependsOn Ghost, which is not a resource of the template"]


def test_resource_attributes_are_rendered() -> None:
    resources = {
        "Db": {
            "Type": "AWS::RDS::DBCluster",
            "DeletionPolicy": {"Fn::If": ["IsProd", "Snapshot", "Delete"]},
            "UpdateReplacePolicy": "Retain",
            "Metadata": {"Owner": {"Ref": "Env"}},
            "Properties": {"Engine": "aurora-postgresql"},
        }
    }
    evaluated = evaluate(template(resources, **IF_SECTIONS))
    assert evaluated.resource("Db") == {
        "Type": "AWS::RDS::DBCluster",
        "DeletionPolicy": "Delete",
        "UpdateReplacePolicy": "Retain",
        "Metadata": {"Owner": "dev"},
        "Properties": {"Engine": "aurora-postgresql"},
    }


def test_of_type_and_resource_lookup() -> None:
    resources = {
        "A": {"Type": "AWS::SNS::Topic"},
        "B": {"Type": "AWS::SQS::Queue"},
        "C": {"Type": "AWS::SNS::Topic"},
    }
    evaluated = evaluate(template(resources))
    assert list(evaluated.of_type("AWS::SNS::Topic")) == ["A", "C"]
    assert evaluated.of_type("AWS::S3::Bucket") == {}
    with pytest.raises(
        KeyError, match=r"no resource 'D' in the evaluated stack.*resources: A, B, C"
    ):
        evaluated.resource("D")


def test_template_errors_are_collected_across_resources_and_outputs() -> None:
    resources = {
        "A": {"Type": "X::A", "Properties": {"V": {"Ref": "Nope"}}},
        "B": {"Type": "X::B", "Properties": {"V": {"Fn::Select": [5, []]}}},
    }
    outputs = {"O": {"Value": {"Fn::GetAtt": ["Ghost", "Arn"]}}}
    errors = template_errors(resources, Outputs=outputs)
    assert errors == [
        "Resources.A: Ref to Nope, which is no parameter, resource or pseudo parameter",
        "Resources.B: Fn::Select index 5 is out of range for a list of 0 items: []",
        "Outputs.O: Fn::GetAtt to Ghost, which is not a resource of the template",
    ]


def test_transform_is_refused() -> None:
    with pytest.raises(TemplateError, match='Transform "AWS::Serverless-2016-10-31" cannot'):
        evaluate(template(Transform="AWS::Serverless-2016-10-31"))


def test_malformed_resources_are_refused() -> None:
    with pytest.raises(TemplateError, match="each an object with a Type"):
        evaluate({"Resources": {"A": {"Properties": {}}}})


def test_lookup_keys_must_name_template_entries() -> None:
    t = template({"Bucket": {"Type": "AWS::S3::Bucket"}})
    with pytest.raises(ValueError, match=r"attributes keys .*\['Buckt\.Arn', 'Bucket'\]"):
        evaluate(t, attributes={"Buckt.Arn": "x", "Bucket": "y"})
    with pytest.raises(ValueError, match=r"physical_ids keys .*\['Buckt'\]"):
        evaluate(t, physical_ids={"Buckt": "x"})


def test_results_do_not_alias_the_template() -> None:
    t = template(
        {
            "R": {
                "Type": "X::R",
                "Properties": {"L": ["a"], "M": {"Fn::FindInMap": ["M", "k", "v"]}},
            }
        },
        Mappings={"M": {"k": {"v": ["x"]}}},
    )
    evaluated = evaluate(t)
    evaluated.resource("R")["Properties"]["L"].append("b")
    evaluated.resource("R")["Properties"]["M"].append("y")
    assert t["Resources"]["R"]["Properties"]["L"] == ["a"]
    assert t["Mappings"]["M"]["k"]["v"] == ["x"]


# --- outputs ---------------------------------------------------------------------------------


def test_outputs_values_conditions_and_exports() -> None:
    resources = conditional_resources()
    outputs = {
        "QueueUrl": {
            "Value": {"Ref": "Always"},
            "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-queue"}},
        },
        "TopicArn": {"Condition": "IsProd", "Value": {"Ref": "ProdOnly"}},
        "Env": {"Description": "the environment", "Value": {"Ref": "Env"}},
    }
    t = template(resources, Outputs=outputs, **IF_SECTIONS)
    dev = evaluate(t, physical_ids={"Always": "https://sqs/queue"})
    assert dev.outputs == {"QueueUrl": "https://sqs/queue", "Env": "dev"}
    assert dev.exports == {"mlflow-queue": "https://sqs/queue"}
    prod = evaluate(t, {"Env": "prod"})
    assert prod.outputs == {"QueueUrl": "<Always>", "TopicArn": "<ProdOnly>", "Env": "prod"}


def test_output_without_value() -> None:
    errors = template_errors({"A": {"Type": "X::A"}}, Outputs={"O": {"Description": "x"}})
    assert errors == ["Outputs.O: an output must be an object with a Value"]


# --- rules -----------------------------------------------------------------------------------

RULE_PARAMETERS = {
    "Env": {"Type": "String", "Default": "dev"},
    "Cert": {"Type": "String", "Default": ""},
    "Vpc": {"Type": "AWS::EC2::VPC::Id", "Default": "vpc-1"},
    "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>", "Default": "subnet-1,subnet-2"},
    "Other": {"Type": "List<AWS::EC2::Subnet::Id>", "Default": "subnet-3"},
}


def rule_errors(rules: dict, given: dict | None = None, **kwargs: Any) -> list[str]:
    """The rule errors for a template with RULE_PARAMETERS; [] when it evaluates."""
    try:
        evaluate(template(Parameters=RULE_PARAMETERS, Rules=rules), given, **kwargs)
    except ParameterError as exc:
        return exc.errors
    return []


PROD_NEEDS_CERT = {
    "ProdNeedsCert": {
        "RuleCondition": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "Assertions": [
            {
                "Assert": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Cert"}, ""]}]},
                "AssertDescription": "prod needs a certificate",
            }
        ],
    }
}


def test_rule_passes_fails_and_is_skipped() -> None:
    assert rule_errors(PROD_NEEDS_CERT) == []
    assert rule_errors(PROD_NEEDS_CERT, {"Env": "prod"}) == [
        "Rule ProdNeedsCert: prod needs a certificate"
    ]
    assert rule_errors(PROD_NEEDS_CERT, {"Env": "prod", "Cert": "arn:cert"}) == []


def test_rule_without_condition_or_description() -> None:
    rules = {
        "Always": {
            "Assertions": [
                {"Assert": {"Fn::Equals": ["a", "a"]}},
                {"Assert": {"Fn::Or": [{"Fn::Equals": ["a", "b"]}, {"Fn::Equals": ["a", "c"]}]}},
            ]
        }
    }
    assert rule_errors(rules) == ["Rule Always: assertion 2 failed"]


@pytest.mark.parametrize(
    ("assertion", "holds"),
    [
        ({"Fn::Contains": [["dev", "prod"], {"Ref": "Env"}]}, True),
        ({"Fn::Contains": [["prod"], {"Ref": "Env"}]}, False),
        ({"Fn::EachMemberEquals": [["a", "a"], "a"]}, True),
        ({"Fn::EachMemberEquals": [{"Ref": "Subnets"}, "subnet-1"]}, False),
        ({"Fn::EachMemberIn": [{"Ref": "Subnets"}, ["subnet-1", "subnet-2", "x"]]}, True),
        ({"Fn::EachMemberIn": [{"Ref": "Subnets"}, ["subnet-1"]]}, False),
        (
            {
                "Fn::EachMemberIn": [
                    {"Fn::RefAll": "List<AWS::EC2::Subnet::Id>"},
                    ["subnet-1", "subnet-2", "subnet-3"],
                ]
            },
            True,
        ),
        (
            {
                "Fn::EachMemberIn": [
                    {"Fn::RefAll": "List<AWS::EC2::Subnet::Id>"},
                    ["subnet-1", "subnet-2"],
                ]
            },
            False,
        ),
        ({"Fn::Equals": [{"Fn::ValueOf": ["Vpc", "Tags.Team"]}, "ml"]}, True),
        ({"Fn::Equals": [{"Fn::ValueOf": ["Subnets", "Zone"]}, "<Subnets.Zone>"]}, True),
        (
            {
                "Fn::EachMemberEquals": [
                    {"Fn::ValueOfAll": ["List<AWS::EC2::Subnet::Id>", "VpcId"]},
                    "vpc-1",
                ]
            },
            True,
        ),
        (
            {
                "Fn::EachMemberEquals": [
                    {"Fn::ValueOfAll": ["AWS::EC2::VPC::Id", "Tags.Team"]},
                    "other",
                ]
            },
            False,
        ),
        (
            {
                "Fn::And": [
                    {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
                    {"Fn::Not": [{"Fn::Equals": ["a", "b"]}]},
                ]
            },
            True,
        ),
    ],
)
def test_rule_functions(assertion: dict, holds: bool) -> None:
    rules = {"R": {"Assertions": [{"Assert": assertion, "AssertDescription": "failed"}]}}
    attributes = {
        "Vpc.Tags.Team": "ml",
        "Subnets.VpcId": ["vpc-1", "vpc-1"],
        "Other.VpcId": "vpc-1",
    }
    expected = [] if holds else ["Rule R: failed"]
    assert rule_errors(rules, attributes=attributes) == expected


def test_rule_referring_to_a_missing_parameter_is_skipped() -> None:
    section = {"Needed": {"Type": "String"}}
    rules = {
        "R": {
            "Assertions": [
                {
                    "Assert": {"Fn::Equals": [{"Ref": "Needed"}, "x"]},
                    "AssertDescription": "skip me",
                },
                {"Assert": {"Fn::Equals": ["a", "b"]}, "AssertDescription": "a is not b"},
            ]
        }
    }
    errors = parameter_errors(section, {}, Rules=rules)
    assert errors == ["Parameters: [Needed] must have values", "Rule R: a is not b"]


def test_rules_cannot_refer_to_resources_or_use_other_functions() -> None:
    refers = {"R": {"Assertions": [{"Assert": {"Fn::Equals": [{"Ref": "Topic"}, "x"]}}]}}
    with pytest.raises(TemplateError, match="Rules cannot refer to resource Topic"):
        evaluate(template(Rules=refers))
    joins = {"R": {"Assertions": [{"Assert": {"Fn::Equals": [{"Fn::Join": ["", []]}, ""]}}]}}
    with pytest.raises(TemplateError, match="Fn::Join cannot be used in Rules"):
        evaluate(template(Rules=joins))


def test_malformed_rules() -> None:
    with pytest.raises(TemplateError, match="Rule R must be an object with a list of Assertions"):
        evaluate(template(Rules={"R": {"RuleCondition": {"Fn::Equals": ["a", "a"]}}}))
    with pytest.raises(TemplateError, match="Rule R: assertion 1 must be an object with an Assert"):
        evaluate(template(Rules={"R": {"Assertions": [{"AssertDescription": "x"}]}}))


# --- render_template -------------------------------------------------------------------------

RENDER_TEMPLATE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Description": "render test",
    "Metadata": {
        "AWS::CloudFormation::Interface": {"ParameterGroups": [{"Parameters": ["Env"]}]},
        "Owner": "ml",
    },
    "Parameters": {
        "Env": {"Type": "String", "Default": "dev"},
        "Prefix": {"Type": "String", "Default": "${odd}"},
    },
    "Rules": {"R": {"Assertions": [{"Assert": {"Fn::Equals": ["a", "a"]}}]}},
    "Mappings": {"Sizes": {"dev": {"Capacity": "1"}, "prod": {"Capacity": "3"}}},
    "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
    "Resources": {
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": {"Fn::Sub": "${AWS::StackName}-${Env}"}},
        },
        "ProdOnly": {"Type": "AWS::SNS::Topic", "Condition": "IsProd"},
        "Vpc": {"Type": "AWS::EC2::VPC"},
        "Policy": {
            "Type": "AWS::S3::BucketPolicy",
            "DependsOn": "Bucket",
            "Properties": {
                "Bucket": {"Ref": "Bucket"},
                "Arn": {"Fn::GetAtt": "Bucket.Arn"},
                "Resource": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/${Env}/${!Literal}"},
                "Escaped": {"Fn::Sub": "${Prefix}-${Bucket.Arn}"},
                "Vars": {
                    "Fn::Sub": [
                        "${Arn}/${Name}",
                        {"Arn": {"Fn::GetAtt": ["Bucket", "Arn"]}, "Name": {"Ref": "Env"}},
                    ]
                },
                "Plain": {"Fn::Sub": "${Env}-${!Literal}"},
                "Joined": {
                    "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":", {"Ref": "Bucket"}]]
                },
                "Capacity": {"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Capacity"]},
                "Maybe": {"Fn::If": ["IsProd", {"Ref": "ProdOnly"}, {"Ref": "AWS::NoValue"}]},
                "Zone": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
                "Block": {
                    "Fn::Select": [0, {"Fn::Cidr": [{"Fn::GetAtt": ["Vpc", "CidrBlock"]}, 2, 8]}]
                },
                "Assoc": {"Fn::Select": [0, {"Fn::GetAtt": ["Vpc", "Ipv6CidrBlocks"]}]},
                "Encoded": {"Fn::Base64": {"Fn::Sub": "echo ${Bucket}"}},
                "Imported": {"Fn::ImportValue": {"Fn::Sub": "${Env}-vpc"}},
            },
        },
    },
    "Outputs": {
        "BucketArn": {
            "Value": {"Fn::GetAtt": ["Bucket", "Arn"]},
            "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-bucket"}},
        },
        "TopicArn": {"Condition": "IsProd", "Value": {"Ref": "ProdOnly"}},
    },
}


def test_render_template_removes_parameter_sections() -> None:
    rendered = render_template(RENDER_TEMPLATE)
    assert list(rendered) == [
        "AWSTemplateFormatVersion",
        "Description",
        "Metadata",
        "Resources",
        "Outputs",
    ]
    assert rendered["Metadata"] == {"Owner": "ml"}
    assert list(rendered["Resources"]) == ["Bucket", "Vpc", "Policy"]
    assert rendered["Outputs"] == {
        "BucketArn": {
            "Value": {"Fn::GetAtt": ["Bucket", "Arn"]},
            "Export": {"Name": "mlflow-bucket"},
        }
    }


def test_render_template_keeps_resource_references() -> None:
    rendered = render_template(RENDER_TEMPLATE)
    assert rendered["Resources"]["Bucket"] == {
        "Type": "AWS::S3::Bucket",
        "Properties": {"BucketName": "mlflow-dev"},
    }
    policy = rendered["Resources"]["Policy"]
    assert policy["DependsOn"] == "Bucket"
    assert policy["Properties"] == {
        "Bucket": {"Ref": "Bucket"},
        "Arn": {"Fn::GetAtt": ["Bucket", "Arn"]},
        "Resource": {"Fn::Sub": "arn:aws:s3:::${Bucket}/dev/${!Literal}"},
        "Escaped": {"Fn::Sub": "${!odd}-${Bucket.Arn}"},
        "Vars": {"Fn::Sub": ["${Arn}/dev", {"Arn": {"Fn::GetAtt": ["Bucket", "Arn"]}}]},
        "Plain": "dev-${Literal}",
        "Joined": {"Fn::Join": ["", ["arn:", "aws", ":", {"Ref": "Bucket"}]]},
        "Capacity": "1",
        "Zone": "us-east-1a",
        "Block": {"Fn::Select": [0, {"Fn::Cidr": [{"Fn::GetAtt": ["Vpc", "CidrBlock"]}, 2, 8]}]},
        "Assoc": {"Fn::Select": [0, {"Fn::GetAtt": ["Vpc", "Ipv6CidrBlocks"]}]},
        "Encoded": {"Fn::Base64": {"Fn::Sub": "echo ${Bucket}"}},
        "Imported": {"Fn::ImportValue": "dev-vpc"},
    }


def test_render_template_follows_parameters() -> None:
    rendered = render_template(RENDER_TEMPLATE, {"Env": "prod"}, region="eu-west-1")
    assert list(rendered["Resources"]) == ["Bucket", "ProdOnly", "Vpc", "Policy"]
    properties = rendered["Resources"]["Policy"]["Properties"]
    assert properties["Maybe"] == {"Ref": "ProdOnly"}
    assert properties["Zone"] == "eu-west-1a"
    assert properties["Capacity"] == "3"
    assert rendered["Outputs"]["TopicArn"] == {"Value": {"Ref": "ProdOnly"}}
    with pytest.raises(ParameterError, match=r"Parameters: \[Nope\] do not exist"):
        render_template(RENDER_TEMPLATE, {"Nope": "x"})


def test_render_template_output_is_plain_json() -> None:
    rendered = render_template(RENDER_TEMPLATE)
    assert json.loads(json.dumps(rendered)) == rendered


def test_render_template_resolves_split_and_join_of_resources() -> None:
    resources = {
        "Db": {"Type": "AWS::RDS::DBCluster"},
        "Thing": {
            "Type": "Test::Thing",
            "Properties": {
                "Host": {
                    "Fn::Select": [0, {"Fn::Split": [":", {"Fn::GetAtt": "Db.Endpoint.Address"}]}]
                },
                "List": {"Fn::Join": [",", {"Fn::GetAtt": ["Db", "Hosts"]}]},
            },
        },
    }
    rendered = render_template(template(resources))
    assert rendered["Resources"]["Thing"]["Properties"] == {
        "Host": {
            "Fn::Select": [0, {"Fn::Split": [":", {"Fn::GetAtt": ["Db", "Endpoint.Address"]}]}]
        },
        "List": {"Fn::Join": [",", {"Fn::GetAtt": ["Db", "Hosts"]}]},
    }
    assert "Parameters" not in render_template(template(resources, Parameters={}))
