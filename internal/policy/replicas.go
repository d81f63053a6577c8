package policy

import "slices"

// The rules of ingot's replica views: who may see the replicas sharing the database and
// which replica owns a node. Both are operators' views: admin only, project scoped as
// Placement's rules are.
const (
	ReplicaList   = "ingot:replica:list"    // GET /v1/replicas
	NodeOwnerShow = "ingot:node:owner:show" // GET /v1/nodes/{uuid}/owner
)

var replicaRules = []string{ReplicaList, NodeOwnerShow}

func replicaDefaults() []ruleDefault {
	defs := make([]ruleDefault, 0, len(replicaRules))
	for _, name := range replicaRules {
		defs = append(defs, ruleDefault{name: name, check: ruleAdmin, scopes: scopeProject})
	}
	return defs
}

// ReplicaRuleNames returns the names of the rules the replica views enforce. The caller
// owns the returned slice.
func ReplicaRuleNames() []string { return slices.Clone(replicaRules) }
