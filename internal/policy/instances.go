package policy

import "slices"

// The rules of ingot's instance API (/v1/instances), one per operation, plus two that
// widen an operation: listing every project's instances and pinning a create to a node.
// Each is checked against the instance's project: Target{"project_id": ...} (for create
// and list, the caller's own project).
const (
	InstanceCreate          = "ingot:instance:create"            // POST /v1/instances
	InstanceCreateNodePin   = "ingot:instance:create:node_pin"   // POST /v1/instances with a node
	InstanceList            = "ingot:instance:list"              // GET /v1/instances
	InstanceListAllProjects = "ingot:instance:list:all_projects" // GET /v1/instances beyond the caller's project
	InstanceShow            = "ingot:instance:show"              // GET /v1/instances/{uuid}
	InstanceDelete          = "ingot:instance:delete"            // DELETE /v1/instances/{uuid}
)

// The instance API's base rules, in Placement's style: an admin, or a member (reader) of
// the instance's project. Both carry the deprecated rule ingot:admin_or_owner, Nova's
// legacy "admin or owner": with enforce_new_defaults false, any role in the instance's
// project passes too, as upgrades from role-less deployments expect.
const (
	ruleInstanceMember   = "rule:ingot:admin_or_project_member"
	ruleInstanceReader   = "rule:ingot:admin_or_project_reader"
	deprecatedOwnerName  = "ingot:admin_or_owner"
	deprecatedOwnerCheck = "role:admin or project_id:%(project_id)s"
	ruleAdmin            = "rule:admin_api"
	instanceMemberCheck  = "role:admin or (role:member and project_id:%(project_id)s)"
	instanceReaderCheck  = "role:admin or (role:reader and project_id:%(project_id)s)"
	instanceMemberName   = "ingot:admin_or_project_member"
	instanceReaderName   = "ingot:admin_or_project_reader"
)

// instanceDefaults returns the instance API's registered rules. Every rule is scoped to
// projects, as Placement's are: a system-scoped token is refused.
func instanceDefaults() []ruleDefault {
	defs := []ruleDefault{
		{name: instanceMemberName, check: instanceMemberCheck, scopes: scopeProject,
			deprecatedName: deprecatedOwnerName, deprecatedCheck: deprecatedOwnerCheck},
		{name: instanceReaderName, check: instanceReaderCheck, scopes: scopeProject,
			deprecatedName: deprecatedOwnerName, deprecatedCheck: deprecatedOwnerCheck},
	}
	for _, name := range instanceRules {
		check := ruleInstanceReader
		switch name {
		case InstanceCreate, InstanceDelete:
			check = ruleInstanceMember
		case InstanceCreateNodePin, InstanceListAllProjects:
			check = ruleAdmin
		}
		defs = append(defs, ruleDefault{name: name, check: check, scopes: scopeProject})
	}
	return defs
}

var instanceRules = []string{
	InstanceCreate, InstanceCreateNodePin, InstanceList, InstanceListAllProjects, InstanceShow, InstanceDelete,
}

// InstanceRuleNames returns the names of the rules the instance API enforces. The caller
// owns the returned slice.
func InstanceRuleNames() []string { return slices.Clone(instanceRules) }
