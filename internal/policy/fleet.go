package policy

// FleetRead is the rule of the fleet dashboard's data (/ui/api/...): the whole fleet's
// providers, Ironic nodes, instances and tracker passes. Its default is that of
// Placement's resource-provider reads: an admin or a service (admin_or_service_api),
// scoped to projects, with the deprecated rule:admin_api.
const FleetRead = "ingot:fleet:read"

// fleetDefaults returns the dashboard's registered rules.
func fleetDefaults() []ruleDefault {
	return []ruleDefault{{name: FleetRead, check: ruleAdminOrService, scopes: scopeProject,
		deprecatedName: deprecatedAdminName, deprecatedCheck: deprecatedAdminCheck}}
}
