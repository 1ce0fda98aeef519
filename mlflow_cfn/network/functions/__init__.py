"""Code the network template embeds in its Lambda functions (``ZipFile``): plain modules that
run in Lambda, importable by tests with a stand-in for ``cfnresponse``."""
