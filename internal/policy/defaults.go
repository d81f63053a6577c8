package policy

import "slices"

// The names of the rules Placement's API enforces, one per operation, as in
// openstack/placement master (placement/policies/*.py). Handlers pass them
// to Authorize.
const (
	ResourceProvidersList   = "placement:resource_providers:list"   // GET /resource_providers
	ResourceProvidersCreate = "placement:resource_providers:create" // POST /resource_providers
	ResourceProvidersShow   = "placement:resource_providers:show"   // GET /resource_providers/{uuid}
	ResourceProvidersUpdate = "placement:resource_providers:update" // PUT /resource_providers/{uuid}
	ResourceProvidersDelete = "placement:resource_providers:delete" // DELETE /resource_providers/{uuid}

	ResourceClassesList   = "placement:resource_classes:list"   // GET /resource_classes
	ResourceClassesCreate = "placement:resource_classes:create" // POST /resource_classes
	ResourceClassesShow   = "placement:resource_classes:show"   // GET /resource_classes/{name}
	ResourceClassesUpdate = "placement:resource_classes:update" // PUT /resource_classes/{name}
	ResourceClassesDelete = "placement:resource_classes:delete" // DELETE /resource_classes/{name}

	InventoriesList   = "placement:resource_providers:inventories:list"   // GET .../inventories
	InventoriesCreate = "placement:resource_providers:inventories:create" // POST .../inventories
	InventoriesShow   = "placement:resource_providers:inventories:show"   // GET .../inventories/{rc}
	InventoriesUpdate = "placement:resource_providers:inventories:update" // PUT .../inventories and .../inventories/{rc}
	InventoriesDelete = "placement:resource_providers:inventories:delete" // DELETE .../inventories and .../inventories/{rc}

	AggregatesList   = "placement:resource_providers:aggregates:list"   // GET .../aggregates
	AggregatesUpdate = "placement:resource_providers:aggregates:update" // PUT .../aggregates

	ResourceProviderUsages = "placement:resource_providers:usages" // GET /resource_providers/{uuid}/usages
	TotalUsages            = "placement:usages"                    // GET /usages; target {"project_id": <query project_id>}

	TraitsList   = "placement:traits:list"   // GET /traits
	TraitsShow   = "placement:traits:show"   // GET /traits/{name}
	TraitsUpdate = "placement:traits:update" // PUT /traits/{name}
	TraitsDelete = "placement:traits:delete" // DELETE /traits/{name}

	ResourceProviderTraitsList   = "placement:resource_providers:traits:list"   // GET .../traits
	ResourceProviderTraitsUpdate = "placement:resource_providers:traits:update" // PUT .../traits
	ResourceProviderTraitsDelete = "placement:resource_providers:traits:delete" // DELETE .../traits

	AllocationsManage               = "placement:allocations:manage"                  // POST /allocations
	AllocationsList                 = "placement:allocations:list"                    // GET /allocations/{consumer_uuid}
	AllocationsUpdate               = "placement:allocations:update"                  // PUT /allocations/{consumer_uuid}
	AllocationsDelete               = "placement:allocations:delete"                  // DELETE /allocations/{consumer_uuid}
	ResourceProviderAllocationsList = "placement:resource_providers:allocations:list" // GET .../allocations

	AllocationCandidatesList = "placement:allocation_candidates:list" // GET /allocation_candidates

	Reshape = "placement:reshaper:reshape" // POST /reshaper
)

// scopeSet is a set of token scopes, oslo.policy's scope_types.
type scopeSet uint8

const (
	scopeProject scopeSet = 1 << iota
	scopeSystem
)

// ruleDefault is one of oslo.policy's RuleDefault: a rule registered in code
// that a policy file may override.
type ruleDefault struct {
	name  string
	check string
	// scopes are the token scopes allowed to use the rule when it is the one
	// being enforced; zero means any (no scope_types).
	scopes scopeSet
	// deprecatedName and deprecatedCheck are the DeprecatedRule, if any.
	deprecatedName  string
	deprecatedCheck string
}

// Upstream's base rules (placement/policies/base.py). Every deprecated rule
// there is the same DeprecatedRule: name "rule:admin_api", check "role:admin".
const (
	ruleAdminOrService              = "rule:admin_or_service_api"
	ruleService                     = "rule:service_api"
	ruleAdminOrProjectReaderService = "rule:admin_or_project_reader_or_service_api"
	deprecatedAdminName             = "rule:admin_api"
	deprecatedAdminCheck            = "role:admin"
)

// placementDefaults returns Placement master's registered rules in
// upstream's registration order. It builds a new slice on every call.
func placementDefaults() []ruleDefault {
	dep := func(d ruleDefault) ruleDefault {
		d.deprecatedName, d.deprecatedCheck = deprecatedAdminName, deprecatedAdminCheck
		return d
	}
	defs := []ruleDefault{
		{name: "admin_api", check: "role:admin", scopes: scopeProject},
		dep(ruleDefault{name: "service_api", check: "role:service", scopes: scopeProject}),
		dep(ruleDefault{name: "admin_or_service_api", check: "role:admin or role:service", scopes: scopeProject}),
		dep(ruleDefault{name: "project_reader_api", check: "role:reader and project_id:%(project_id)s"}),
		dep(ruleDefault{name: "admin_or_project_reader_or_service_api",
			check: "role:admin or rule:project_reader_api or role:service", scopes: scopeProject}),
	}
	for _, name := range apiRules {
		check := ruleAdminOrService
		switch name {
		case TotalUsages:
			check = ruleAdminOrProjectReaderService
		case Reshape:
			check = ruleService
		}
		defs = append(defs, ruleDefault{name: name, check: check, scopes: scopeProject})
	}
	return defs
}

// apiRules lists the API rules in upstream's registration order.
var apiRules = []string{
	ResourceProvidersList, ResourceProvidersCreate, ResourceProvidersShow,
	ResourceProvidersUpdate, ResourceProvidersDelete,
	ResourceClassesList, ResourceClassesCreate, ResourceClassesShow,
	ResourceClassesUpdate, ResourceClassesDelete,
	InventoriesList, InventoriesCreate, InventoriesShow, InventoriesUpdate, InventoriesDelete,
	AggregatesList, AggregatesUpdate,
	ResourceProviderUsages, TotalUsages,
	TraitsList, TraitsShow, TraitsUpdate, TraitsDelete,
	ResourceProviderTraitsList, ResourceProviderTraitsUpdate, ResourceProviderTraitsDelete,
	AllocationsManage, AllocationsList, AllocationsUpdate, AllocationsDelete,
	ResourceProviderAllocationsList,
	AllocationCandidatesList,
	Reshape,
}

// RuleNames returns the names of every rule Placement's API enforces (the
// "placement:*" rules, not the base rules they refer to), so that the HTTP
// layer can check it uses only these. The caller owns the returned slice.
func RuleNames() []string {
	return slices.Clone(apiRules)
}
