"""What a stack keeps of its stateful resources when they leave it (DeletionPolicy).

CloudFormation User Guide, DeletionPolicy attribute: "RetainExceptOnCreate behaves like Retain
for stack operations, except for the stack operation that initially created the resource. If the
stack operation that created the resource is rolled back, CloudFormation deletes the resource."
UpdateReplacePolicy has no such value (Delete, Retain, Snapshot): a replaced resource is kept.

* ``RetainExceptOnCreate``: the keys, the artifact bucket and the log groups. A first create that
  fails leaves none of them behind (they are new and hold nothing yet), while every later delete
  or removal keeps them as ``Retain`` did.
* ``Retain`` where the rollback's delete would fail and leave the stack in ROLLBACK_FAILED:
  the access-log bucket (the load balancer and S3 write log files into it from the start, and
  "for Amazon S3 buckets, you must delete all objects in the bucket for deletion to succeed",
  DeletionPolicy attribute) and the Cognito user pool (``DeletionProtection: ACTIVE``: "you
  can't delete the user pool", Cognito API Reference, UserPoolType). README says what a failed
  first create leaves behind.
* ``Snapshot`` for the database cluster, as before.
"""

from __future__ import annotations

__all__ = ["KEEP", "KEEP_EXCEPT_ON_CREATE"]

KEEP = "Retain"
KEEP_EXCEPT_ON_CREATE = "RetainExceptOnCreate"
