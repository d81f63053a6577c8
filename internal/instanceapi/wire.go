package instanceapi

import (
	"time"

	"ingot/internal/baremetal"
)

// Instance is an instance as the API shows it.
type Instance struct {
	UUID      string `json:"uuid"`
	Name      string `json:"name"`
	ProjectID string `json:"project_id"`
	UserID    string `json:"user_id"`
	// State is building, active, deleting, error or deleted; Task what the controller is
	// doing within it ("" when nothing).
	State string `json:"state"`
	Task  string `json:"task"`
	// Node is the node the instance holds ("" when none); NodeLocked reports whether the
	// node's instance_uuid in Ironic names this instance.
	Node       string `json:"node"`
	NodeLocked bool   `json:"node_locked"`
	// Fault is why the last attempt failed, or why the instance is in error; null if none.
	Fault *Fault `json:"fault"`
	// Attempts counts the nodes tried; ExcludedNodes are those that failed it.
	Attempts      int      `json:"attempts"`
	ExcludedNodes []string `json:"excluded_nodes"`
	// What the creator asked for. ConfigDrive is left out of lists.
	Request     baremetal.Request      `json:"request"`
	Image       baremetal.Image        `json:"image"`
	ConfigDrive *baremetal.ConfigDrive `json:"config_drive,omitempty"`
	Generation  int64                  `json:"generation"`
	CreatedAt   time.Time              `json:"created_at"`
	UpdatedAt   time.Time              `json:"updated_at"`
	Links       []Link                 `json:"links"`
}

// Fault is why an instance failed.
type Fault struct {
	Code    string    `json:"code"`
	Message string    `json:"message"`
	Time    time.Time `json:"time"`
}

// Link is a related URL: "self" of an instance, "next" of a list page.
type Link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

// CreateRequest is the body of POST /v1/instances.
type CreateRequest struct {
	// UUID names the instance; the server generates one when it is empty. A create
	// repeated with the same UUID and body returns the existing instance.
	UUID        string                `json:"uuid,omitempty"`
	Name        string                `json:"name,omitempty"`
	Request     baremetal.Request     `json:"request"`
	Image       baremetal.Image       `json:"image"`
	ConfigDrive baremetal.ConfigDrive `json:"config_drive"`
}

// List is the body of GET /v1/instances: one page, and a "next" link when more follow.
type List struct {
	Instances []Instance `json:"instances"`
	Links     []Link     `json:"links"`
}

// Wire returns in as the API shows it; self is its URL. withConfigDrive includes the
// config drive input (show, create and delete do; lists do not).
func Wire(in baremetal.Instance, self string, withConfigDrive bool) Instance {
	out := Instance{
		UUID: in.UUID, Name: in.Name, ProjectID: in.ProjectID, UserID: in.UserID,
		State: string(in.State), Task: string(in.Task), Node: in.Node, NodeLocked: in.Locked,
		Attempts: in.Attempts, ExcludedNodes: in.Excluded,
		Request: in.Spec.Request, Image: in.Spec.Image,
		Generation: in.Generation, CreatedAt: in.CreatedAt.UTC(), UpdatedAt: in.UpdatedAt.UTC(),
		Links: []Link{{Rel: "self", Href: self}},
	}
	if out.ExcludedNodes == nil {
		out.ExcludedNodes = []string{}
	}
	if in.Fault != nil {
		out.Fault = &Fault{Code: in.Fault.Code, Message: in.Fault.Message, Time: in.Fault.Time.UTC()}
	}
	if withConfigDrive {
		cd := in.Spec.ConfigDrive
		out.ConfigDrive = &cd
	}
	return out
}
