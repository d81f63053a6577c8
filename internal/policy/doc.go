// Package policy decides whether a caller may perform a Placement API
// operation, the way OpenStack Placement does with oslo.policy: the same rule
// language, the same policy files, and Placement master's default rules.
//
// # Rules
//
// A rule is written in oslo.policy's language:
//
//	@                         always
//	!                         never
//	""                        (the empty rule) always
//	role:NAME                 the caller has role NAME (case-insensitive)
//	rule:NAME                 the rule NAME allows; an undefined NAME is the
//	                          rule "default" if defined, else never
//	KEY:VALUE                 the caller's credential KEY (user_id, project_id,
//	                          system_scope, roles, ...) equals VALUE
//	LITERAL:VALUE             True, False, None, an integer or a quoted string
//	                          equals VALUE ("True:%(enabled)s")
//	A and B, A or B, not A    with not > and > or, and parentheses
//
// In VALUE (and in a role name), %(key)s is replaced by the target's value
// for key; a check whose key is missing from the target is false. %% is a
// percent sign; other Python conversions are not supported. Policy files may
// also use oslo's old list-of-lists syntax: [["a", "b"], ["c"]] is
// "(a and b) or c".
//
// Parsing follows oslo.policy's shift-reduce parser, so rules group and fail
// exactly as they do there. Like oslo, a malformed rule is kept and denies:
// a rule that does not parse is "!", a malformed check inside one is "!" in
// its place. New does not fail on them; Enforcer.Warnings reports them, along
// with references to undefined rules and reference cycles (a reference that
// closes a cycle denies, where oslo would recurse without end).
//
// # Defaults, deprecated rules and scope
//
// New registers Placement master's rules (placement/policies/*.py): the base
// rules admin_api, service_api, admin_or_service_api, project_reader_api and
// admin_or_project_reader_or_service_api, and one rule per API operation (see
// RuleNames). Every API rule is scoped to projects; admin_or_service_api is
// "role:admin or role:service", placement:reshaper:reshape is service only,
// and placement:usages also lets a reader of the queried project in.
//
// The base rules carry upstream's deprecated rule, "role:admin". With
// Options.EnforceNewDefaults false, a base rule that the policy file does not
// override allows what its new default or "role:admin" allows, which is
// oslo.policy's upgrade behaviour; with true, only the new default counts.
//
// Scope is always enforced, as in current oslo.policy: a system-scoped caller
// is refused by a rule registered for projects only, and the reverse,
// before the rule is evaluated. A policy file may change a rule's check but
// not its scope.
//
// # The instance API's rules
//
// New also registers the rules of ingot's own instance API (see InstanceRuleNames), in
// the same style: ingot:instance:create and :delete allow an admin or a member of the
// instance's project (base rule ingot:admin_or_project_member), :list and :show an admin
// or a reader of it (ingot:admin_or_project_reader), and :create:node_pin and
// :list:all_projects admins only (admin_api). All are scoped to projects. Both base rules
// carry the deprecated rule ingot:admin_or_owner, "role:admin or
// project_id:%(project_id)s" (Nova's legacy owner rule), which counts as the deprecated
// Placement rules do when new defaults are not enforced.
//
// # Differences from oslo.policy
//
// Placement's oslo.policy raises PolicyNotRegistered (a 500) for a rule name
// it does not know; Authorize evaluates the "default" rule instead, or
// refuses. External http: and https: checks are not supported (they deny).
// Left-hand literals are limited to the forms listed above. A policy file
// named in Options must exist; oslo.policy ignores a missing one.
//
// # The dashboard's rule
//
// ingot:fleet:read (FleetRead) guards the fleet dashboard's data; by default an admin or
// a service may read it, as Placement's resource-provider reads.
package policy
