package deploy

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/assignd/assignd/policy"
)

// httpRoute mirrors the fields of a Gateway API HTTPRoute
// (gateway.networking.k8s.io/v1) that the manifests use, so that a
// misspelt field fails strict decoding.
type httpRoute struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace,omitempty"`
		Labels      map[string]string `json:"labels,omitempty"`
		Annotations map[string]string `json:"annotations,omitempty"`
	} `json:"metadata"`
	Spec struct {
		ParentRefs []struct {
			Group       string `json:"group,omitempty"`
			Kind        string `json:"kind,omitempty"`
			Name        string `json:"name"`
			Namespace   string `json:"namespace,omitempty"`
			SectionName string `json:"sectionName,omitempty"`
		} `json:"parentRefs"`
		Hostnames []string        `json:"hostnames,omitempty"`
		Rules     []httpRouteRule `json:"rules"`
	} `json:"spec"`
}

// httpRouteRule is one rule of an HTTPRoute.
type httpRouteRule struct {
	Matches []struct {
		Path *struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"path,omitempty"`
	} `json:"matches,omitempty"`
	BackendRefs []struct {
		Group  string `json:"group,omitempty"`
		Kind   string `json:"kind,omitempty"`
		Name   string `json:"name"`
		Port   int32  `json:"port"`
		Weight *int32 `json:"weight,omitempty"`
	} `json:"backendRefs,omitempty"`
}

// The components an overlay picks from, by directory under componentsDir.
const (
	gatewayComponent    = "gateway"
	ingressComponent    = "ingress"
	monitoringComponent = "monitoring"
	reloadComponent     = "policy-reload"
)

// renderWith renders the base with the named components, through an
// overlay written to a temporary directory as an operator would write it.
func renderWith(t *testing.T, components ...string) *rendered {
	t.Helper()
	base, err := filepath.Abs(baseDir)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(os.TempDir(), "assignd-deploy-"+strings.Join(append([]string{"base"}, components...), "+"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// Relative, as kustomize requires of a base outside the overlay.
	rel, err := filepath.Rel(dir, base)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: assignd\nresources:\n  - %s\ncomponents:\n", rel)
	for _, c := range components {
		fmt.Fprintf(&b, "  - %s\n", filepath.Join(rel, "components", c))
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return render(t, dir)
}

// routeCombinations are the overlays the README offers: one route, with or
// without monitoring, either policy style.
func routeCombinations() [][]string {
	var out [][]string
	for _, route := range []string{gatewayComponent, ingressComponent} {
		for _, monitoring := range []bool{false, true} {
			for _, reload := range []bool{false, true} {
				c := []string{route}
				if monitoring {
					c = append(c, monitoringComponent)
				}
				if reload {
					c = append(c, reloadComponent)
				}
				out = append(out, c)
			}
		}
	}
	return out
}

// TestComponentCombinations builds every combination of the components
// and checks what each one adds, and that nothing sets the Deployment's
// replicas while the autoscaler owns them.
func TestComponentCombinations(t *testing.T) {
	for _, comps := range routeCombinations() {
		t.Run(strings.Join(comps, "+"), func(t *testing.T) {
			r := renderWith(t, comps...)
			d := only(t, "Deployment", r.deployments)
			c := assigndContainer(t, d)
			svc := only(t, "Service", r.services)
			callbackPort := listenPort(t, envValue(t, c, "ASSIGND_LISTEN"))
			for _, h := range r.hpas {
				if h.Spec.ScaleTargetRef.Name == d.Name && d.Spec.Replicas != nil {
					t.Errorf("the Deployment sets replicas %d while HorizontalPodAutoscaler %s scales it", *d.Spec.Replicas, h.Name)
				}
			}
			np := only(t, "NetworkPolicy", r.networkPolicies)
			callbackFrom := np.Spec.Ingress[0].From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]
			switch {
			case slices.Contains(comps, gatewayComponent):
				rt := only(t, "HTTPRoute", r.httpRoutes)
				for _, msg := range httpRouteProblems(rt, svc, c, callbackPort) {
					t.Error(msg)
				}
				if len(r.ingresses) != 0 {
					t.Error("an Ingress beside the HTTPRoute")
				}
				if parent := rt.Spec.ParentRefs[0].Namespace; callbackFrom != parent {
					t.Errorf("the NetworkPolicy admits callbacks from %q, the Gateway is in %q", callbackFrom, parent)
				}
			default:
				for _, msg := range ingressProblems(only(t, "Ingress", r.ingresses), svc, c, callbackPort) {
					t.Error(msg)
				}
				if len(r.httpRoutes) != 0 {
					t.Error("an HTTPRoute beside the Ingress")
				}
				if callbackFrom != "ingress-nginx" {
					t.Errorf("the NetworkPolicy admits callbacks from %q, want ingress-nginx", callbackFrom)
				}
			}
			monitored := slices.Contains(comps, monitoringComponent)
			if got := len(r.serviceMonitors) == 1 && len(r.prometheusRules) == 1; got != monitored {
				t.Errorf("%d ServiceMonitors and %d PrometheusRules with monitoring %v", len(r.serviceMonitors), len(r.prometheusRules), monitored)
			}
			cm := only(t, "ConfigMap", r.configMaps)
			if stable := cm.Name == "assignd-policy"; stable != slices.Contains(comps, reloadComponent) {
				t.Errorf("ConfigMap %q with components %v", cm.Name, comps)
			}
			for id, ns := range r.namespaceOf {
				if !strings.HasPrefix(id, "Namespace/") && ns != "assignd" {
					t.Errorf("%s is in namespace %q", id, ns)
				}
			}
		})
	}
}

// httpRouteProblems lists how the HTTPRoute departs from: a hostname set,
// a parent Gateway named, only /taskrouter/ routed and only to the
// Service port that reaches the callback port.
func httpRouteProblems(rt *httpRoute, svc *corev1.Service, c *corev1.Container, callbackPort int32) []string {
	var out []string
	if len(rt.Spec.ParentRefs) == 0 || rt.Spec.ParentRefs[0].Name == "" {
		out = append(out, "the HTTPRoute attaches to no Gateway")
	}
	if len(rt.Spec.Hostnames) == 0 {
		out = append(out, "the HTTPRoute has no hostname, so it matches every host on the Gateway")
	}
	routes := map[string]bool{}
	for i, rule := range rt.Spec.Rules {
		if len(rule.Matches) == 0 {
			out = append(out, fmt.Sprintf("rule %d matches every path", i))
		}
		if len(rule.BackendRefs) == 0 {
			out = append(out, fmt.Sprintf("rule %d has no backend", i))
		}
		for _, b := range rule.BackendRefs {
			if (b.Kind != "" && b.Kind != "Service") || b.Name != svc.Name {
				out = append(out, fmt.Sprintf("rule %d routes to %s %q, not Service %s", i, b.Kind, b.Name, svc.Name))
				continue
			}
			var sp *corev1.ServicePort
			for j := range svc.Spec.Ports {
				if svc.Spec.Ports[j].Port == b.Port {
					sp = &svc.Spec.Ports[j]
				}
			}
			if sp == nil {
				out = append(out, fmt.Sprintf("rule %d routes to port %d, which the Service lacks", i, b.Port))
			} else if got := containerPort(c, sp.TargetPort); got != callbackPort {
				out = append(out, fmt.Sprintf("rule %d routes to container port %d, not the callback port %d", i, got, callbackPort))
			}
		}
		for _, m := range rule.Matches {
			if m.Path == nil || !strings.HasPrefix(m.Path.Value, "/taskrouter/") {
				out = append(out, fmt.Sprintf("rule %d matches a path outside /taskrouter/", i))
				continue
			}
			for _, want := range []string{callbackPath, eventsPath} {
				if (m.Path.Type == "PathPrefix" && strings.HasPrefix(want, m.Path.Value)) || (m.Path.Type == "Exact" && m.Path.Value == want) {
					routes[want] = true
				}
			}
		}
	}
	for _, want := range []string{callbackPath, eventsPath} {
		if !routes[want] {
			out = append(out, "no rule routes "+want)
		}
	}
	return out
}

// TestHTTPRouteCheckerCatches feeds httpRouteProblems broken routes.
func TestHTTPRouteCheckerCatches(t *testing.T) {
	r := renderWith(t, gatewayComponent)
	d := only(t, "Deployment", r.deployments)
	c := assigndContainer(t, d)
	svc := only(t, "Service", r.services)
	good := only(t, "HTTPRoute", r.httpRoutes)
	callbackPort := listenPort(t, envValue(t, c, "ASSIGND_LISTEN"))
	// clone copies the route deeply enough for the mutations below.
	clone := func() *httpRoute {
		rt := *good
		rt.Spec.Rules = nil
		for _, rule := range good.Spec.Rules {
			rule.Matches = slices.Clone(rule.Matches)
			for i := range rule.Matches {
				if p := rule.Matches[i].Path; p != nil {
					cp := *p
					rule.Matches[i].Path = &cp
				}
			}
			rule.BackendRefs = slices.Clone(rule.BackendRefs)
			rt.Spec.Rules = append(rt.Spec.Rules, rule)
		}
		return &rt
	}
	if p := httpRouteProblems(clone(), svc, c, callbackPort); len(p) != 0 {
		t.Fatalf("the rendered HTTPRoute has problems: %v", p)
	}
	for _, tt := range []struct {
		name   string
		mutate func(rt *httpRoute)
	}{
		{"admin port", func(rt *httpRoute) { rt.Spec.Rules[0].BackendRefs[0].Port = 9090 }},
		{"root path", func(rt *httpRoute) { rt.Spec.Rules[0].Matches[0].Path.Value = "/" }},
		{"events not routed", func(rt *httpRoute) {
			rt.Spec.Rules[0].Matches[0].Path.Type, rt.Spec.Rules[0].Matches[0].Path.Value = "Exact", callbackPath
		}},
		{"no matches", func(rt *httpRoute) { rt.Spec.Rules[0].Matches = nil }},
		{"no hostname", func(rt *httpRoute) { rt.Spec.Hostnames = nil }},
		{"another service", func(rt *httpRoute) { rt.Spec.Rules[0].BackendRefs[0].Name = "other" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rt := clone()
			tt.mutate(rt)
			if len(httpRouteProblems(rt, svc, c, callbackPort)) == 0 {
				t.Fatal("the checker did not notice")
			}
		})
	}
}

// TestExampleOverlay checks the overlay the README tells operators to
// copy: its host is set in both places signatures need, its policy replaces
// the base's and parses, and its image is pinned.
func TestExampleOverlay(t *testing.T) {
	r := render(t, monitorOverlayDir)
	d := only(t, "Deployment", r.deployments)
	c := assigndContainer(t, d)
	u, err := url.Parse(envValue(t, c, "ASSIGND_PUBLIC_BASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() == "assignd.example.com" {
		t.Error("the overlay does not show how to set the host")
	}
	rt := only(t, "HTTPRoute", r.httpRoutes)
	if !slices.Equal(rt.Spec.Hostnames, []string{u.Hostname()}) {
		t.Errorf("HTTPRoute hostnames %v, ASSIGND_PUBLIC_BASE_URL host %q", rt.Spec.Hostnames, u.Hostname())
	}
	cm := only(t, "ConfigMap", r.configMaps)
	src, err := os.ReadFile(filepath.Join(monitorOverlayDir, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cm.Name != "assignd-policy" || cm.Data["policy.yaml"] != string(src) {
		t.Errorf("ConfigMap %s does not hold the overlay's policy.yaml under the stable name", cm.Name)
	}
	if _, err := policy.Parse("policy.yaml", src); err != nil {
		t.Error(err)
	}
	for _, msg := range imageProblems(d) {
		t.Error(msg)
	}
	if msgs := envProblems(c, configVars()); len(msgs) != 0 {
		t.Error(msgs)
	}
}
