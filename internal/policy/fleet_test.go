package policy

import "testing"

// TestFleetRead checks the dashboard's rule: admins and services read the fleet, project
// members and readers and system-scoped tokens do not; a policy file may widen it.
func TestFleetRead(t *testing.T) {
	e, err := New(Options{EnforceNewDefaults: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		creds Credentials
		allow bool
	}{
		{"admin", Credentials{UserID: "a", ProjectID: "p", Roles: []string{"admin", "member", "reader"}}, true},
		{"service", Credentials{UserID: "nova", ProjectID: "service", Roles: []string{"service"}}, true},
		{"member", Credentials{UserID: "m", ProjectID: "p", Roles: []string{"member", "reader"}}, false},
		{"reader", Credentials{UserID: "r", ProjectID: "p", Roles: []string{"reader"}}, false},
		{"no roles", Credentials{UserID: "n", ProjectID: "p"}, false},
		{"system admin", Credentials{UserID: "s", Roles: []string{"admin"}, SystemScope: "all"}, false},
	}
	for _, tc := range tests {
		err := e.Authorize(FleetRead, tc.creds, Target{"project_id": tc.creds.ProjectID})
		if (err == nil) != tc.allow {
			t.Errorf("%s: Authorize(%s) = %v, want allowed %v", tc.name, FleetRead, err, tc.allow)
		}
	}
}
