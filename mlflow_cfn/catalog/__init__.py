"""The Service Catalog side of mlflow-cfn: the portfolio template and publishing the product.

Portfolio template: `portfolio` (the template itself) offers the product with a launch role whose
policy `launch_policy` assembles from `schema_actions` and `launch_actions` (which actions),
`scopes` (on which ARNs) and `conditioned_grants` (which actions only under a condition), reading
the product through `product`.

Publishing: `publish` (``publish()``: read, then change only what differs) over
`publish_request` (the request, the local template, the error), `existing` (what already exists)
and `product_versions` (creating a version and waiting for it). The command is
`mlflow_cfn.commands.publish`.
"""
