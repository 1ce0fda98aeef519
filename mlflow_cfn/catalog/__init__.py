"""The Service Catalog side of mlflow-cfn: the portfolio template and publishing the product.

Portfolio template: `portfolio` (the template itself, its Parameters in `portfolio_inputs`) offers
the product with a launch role whose policy `launch_policy` assembles from `schema_actions` and
`launch_actions` (which actions), `scopes` (on which ARNs) and `conditioned_grants` (which actions
only under a condition), reading the product through `product`; with a permissions boundary
(`boundary`) for every role of the product and a template constraint whose Rules (`allow_lists`)
refuse what the admin does not allow.

Publishing: `publish` (``publish()``: read, then change only what differs) over
`publish_request` (the request, the local template, the error), `existing` (what already exists),
`product_versions` (creating a version and waiting for it) and `template_constraint` (the
allow-list Rules as a TEMPLATE constraint). The command is `mlflow_cfn.commands.publish`.
"""
