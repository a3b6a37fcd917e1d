package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/policy"
)

// The directories the tests render, relative to this package: the base,
// its components, and the example overlay (which adds monitoring).
const (
	baseDir           = "kubernetes"
	componentsDir     = "kubernetes/components"
	monitorOverlayDir = "overlays/example"
)

// The paths the admin listener serves for the kubelet's probes, and the
// path TaskRouter's assignment callback is POSTed to.
const (
	readyPath    = "/readyz"
	healthPath   = "/healthz"
	callbackPath = "/taskrouter/assignment"
	// eventsPath is where the Workspace's EventCallbackUrl points.
	eventsPath = "/taskrouter/events"
)

// strictDecode decodes one JSON value into v, failing on a field that v's
// type does not have and on anything after the value.
func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the object")
	}
	return nil
}

// strictDecodeYAML converts one YAML document to JSON and decodes it strictly.
func strictDecodeYAML(doc []byte, v any) error {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return err
	}
	return strictDecode(j, v)
}

// serviceMonitor mirrors the fields of a Prometheus Operator ServiceMonitor
// (monitoring.coreos.com/v1) that the manifests use; decoding strictly into
// it catches a misspelt field as the typed Kubernetes objects do.
type serviceMonitor struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace,omitempty"`
		Labels      map[string]string `json:"labels,omitempty"`
		Annotations map[string]string `json:"annotations,omitempty"`
	} `json:"metadata"`
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path,omitempty"`
			Interval      string `json:"interval,omitempty"`
			ScrapeTimeout string `json:"scrapeTimeout,omitempty"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// prometheusRule mirrors the fields of a Prometheus Operator
// PrometheusRule (monitoring.coreos.com/v1) that the manifests use.
type prometheusRule struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace,omitempty"`
		Labels    map[string]string `json:"labels,omitempty"`
	} `json:"metadata"`
	Spec struct {
		Groups ruleGroups `json:"groups"`
	} `json:"spec"`
}

// typedObject returns a new typed value for a manifest's kind, into which
// it must decode strictly, or an error for a kind the tests do not know.
func typedObject(apiVersion, kind string) (any, error) {
	switch apiVersion + " " + kind {
	case "v1 Namespace":
		return &corev1.Namespace{}, nil
	case "v1 Service":
		return &corev1.Service{}, nil
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1 Secret":
		return &corev1.Secret{}, nil
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, nil
	case "networking.k8s.io/v1 Ingress":
		return &networkingv1.Ingress{}, nil
	case "networking.k8s.io/v1 NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, nil
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, nil
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return &serviceMonitor{}, nil
	case "monitoring.coreos.com/v1 PrometheusRule":
		return &prometheusRule{}, nil
	case "gateway.networking.k8s.io/v1 HTTPRoute":
		return &httpRoute{}, nil
	case "kustomize.config.k8s.io/v1beta1 Kustomization", "kustomize.config.k8s.io/v1alpha1 Component":
		return &kustypes.Kustomization{}, nil
	}
	return nil, fmt.Errorf("no typed object for %s %s: teach typedObject about it", apiVersion, kind)
}

// decodeManifest decodes one JSON manifest strictly into the typed object
// for its kind.
func decodeManifest(j []byte) (any, error) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(j, &head); err != nil {
		return nil, err
	}
	obj, err := typedObject(head.APIVersion, head.Kind)
	if err != nil {
		return nil, err
	}
	if err := strictDecode(j, obj); err != nil {
		return nil, fmt.Errorf("%s: %w", head.Kind, err)
	}
	return obj, nil
}

// splitYAML splits a YAML stream into its documents, dropping empty ones.
func splitYAML(data []byte) [][]byte {
	var docs [][]byte
	var cur []string
	flush := func() {
		doc := strings.Join(cur, "\n")
		cur = nil
		for _, line := range strings.Split(doc, "\n") {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
				docs = append(docs, []byte(doc))
				return
			}
		}
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.TrimRight(line, " \t\r") == "---" {
			flush()
			continue
		}
		cur = append(cur, line)
	}
	flush()
	return docs
}

// rendered is the output of one kustomize build, decoded strictly.
type rendered struct {
	namespaces      []*corev1.Namespace
	deployments     []*appsv1.Deployment
	services        []*corev1.Service
	ingresses       []*networkingv1.Ingress
	configMaps      []*corev1.ConfigMap
	secrets         []*corev1.Secret
	hpas            []*autoscalingv2.HorizontalPodAutoscaler
	pdbs            []*policyv1.PodDisruptionBudget
	networkPolicies []*networkingv1.NetworkPolicy
	serviceMonitors []*serviceMonitor
	prometheusRules []*prometheusRule
	httpRoutes      []*httpRoute
	// namespaceOf maps "Kind/name" to each object's namespace.
	namespaceOf map[string]string
}

var (
	renderMu    sync.Mutex
	renderCache = map[string]*rendered{}
)

// render builds the kustomization in dir with krusty and decodes every
// resource strictly, once per directory and test binary.
func render(t *testing.T, dir string) *rendered {
	t.Helper()
	renderMu.Lock()
	defer renderMu.Unlock()
	if r, ok := renderCache[dir]; ok {
		return r
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	r := &rendered{namespaceOf: map[string]string{}}
	for _, res := range m.Resources() {
		j, err := res.MarshalJSON()
		if err != nil {
			t.Fatalf("kustomize build %s: %s: %v", dir, res.CurId(), err)
		}
		obj, err := decodeManifest(j)
		if err != nil {
			t.Fatalf("kustomize build %s: %s does not decode strictly: %v", dir, res.CurId(), err)
		}
		r.namespaceOf[res.GetKind()+"/"+res.GetName()] = res.GetNamespace()
		if err := r.add(obj); err != nil {
			t.Fatalf("kustomize build %s: %v", dir, err)
		}
	}
	renderCache[dir] = r
	return r
}

// add files one decoded object under its kind.
func (r *rendered) add(obj any) error {
	switch o := obj.(type) {
	case *corev1.Namespace:
		r.namespaces = append(r.namespaces, o)
	case *appsv1.Deployment:
		r.deployments = append(r.deployments, o)
	case *corev1.Service:
		r.services = append(r.services, o)
	case *networkingv1.Ingress:
		r.ingresses = append(r.ingresses, o)
	case *corev1.ConfigMap:
		r.configMaps = append(r.configMaps, o)
	case *corev1.Secret:
		r.secrets = append(r.secrets, o)
	case *autoscalingv2.HorizontalPodAutoscaler:
		r.hpas = append(r.hpas, o)
	case *policyv1.PodDisruptionBudget:
		r.pdbs = append(r.pdbs, o)
	case *networkingv1.NetworkPolicy:
		r.networkPolicies = append(r.networkPolicies, o)
	case *serviceMonitor:
		r.serviceMonitors = append(r.serviceMonitors, o)
	case *prometheusRule:
		r.prometheusRules = append(r.prometheusRules, o)
	case *httpRoute:
		r.httpRoutes = append(r.httpRoutes, o)
	default:
		return fmt.Errorf("unexpected %T", obj)
	}
	return nil
}

// only returns the single element of s, failing the test unless there is
// exactly one.
func only[T any](t *testing.T, what string, s []T) T {
	t.Helper()
	if len(s) != 1 {
		t.Fatalf("want exactly one %s, have %d", what, len(s))
	}
	return s[0]
}

// configVar is one environment variable that package config reads.
type configVar struct {
	Field   string
	Default string
	// HasDefault distinguishes an empty default from none.
	HasDefault bool
}

// configVars reflects over config.Config's envconfig tags: these are the
// only variables that assignd reads.
func configVars() map[string]configVar {
	vars := map[string]configVar{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Type.Kind() == reflect.Struct && f.Tag.Get("envconfig") == "" && f.Type != reflect.TypeFor[time.Time]() {
				walk(f.Type)
				continue
			}
			name := f.Tag.Get("envconfig")
			if name == "" {
				continue
			}
			def, ok := f.Tag.Lookup("default")
			vars[name] = configVar{Field: f.Name, Default: def, HasDefault: ok}
		}
	}
	walk(reflect.TypeFor[config.Config]())
	return vars
}

// envValue is the literal value the container gives name, or else the
// config default; a value from a secret or a field reference cannot be known
// here and fails the test.
func envValue(t *testing.T, c *corev1.Container, name string) string {
	t.Helper()
	for _, e := range c.Env {
		if e.Name == name {
			if e.ValueFrom != nil {
				t.Fatalf("%s comes from %v; the test needs a literal value", name, e.ValueFrom)
			}
			return e.Value
		}
	}
	v, ok := configVars()[name]
	if !ok || !v.HasDefault {
		t.Fatalf("%s is neither set by the Deployment nor defaulted by package config", name)
	}
	return v.Default
}

// listenPort is the port of a listen address such as ":8080".
func listenPort(t *testing.T, addr string) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("listen address %q: %v", addr, err)
	}
	n, err := strconv.ParseInt(p, 10, 32)
	if err != nil {
		t.Fatalf("listen address %q: %v", addr, err)
	}
	return int32(n)
}

// containerPort resolves a probe's or NetworkPolicy's port, by number or by
// name, to a container port number; 0 if it names no port of c.
func containerPort(c *corev1.Container, p intstr.IntOrString) int32 {
	if p.Type == intstr.Int {
		return p.IntVal
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort
		}
	}
	return 0
}

// assigndContainer is the Deployment's assignd container.
func assigndContainer(t *testing.T, d *appsv1.Deployment) *corev1.Container {
	t.Helper()
	for i := range d.Spec.Template.Spec.Containers {
		if c := &d.Spec.Template.Spec.Containers[i]; c.Name == "assignd" {
			return c
		}
	}
	t.Fatalf("Deployment %s has no container named assignd", d.Name)
	return nil
}

// selects reports whether every label in selector is on labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestManifestFilesDecodeStrictly decodes every YAML file under kubernetes/
// and overlays/ into its typed object, so that a misspelt or misplaced field
// fails here rather than being dropped by the API server.
func TestManifestFilesDecodeStrictly(t *testing.T) {
	var files []string
	for _, root := range []string{baseDir, "overlays"} {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 10 {
		t.Fatalf("found only %d manifest files: %v", len(files), files)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(f) == "policy.yaml" {
				// Not a manifest: the policy that the ConfigMap carries.
				if _, err := policy.Parse(f, data); err != nil {
					t.Fatalf("policy.Parse: %v", err)
				}
				return
			}
			docs := splitYAML(data)
			if len(docs) == 0 {
				t.Fatal("no YAML document")
			}
			for i, doc := range docs {
				j, err := yaml.YAMLToJSON(doc)
				if err != nil {
					t.Fatalf("document %d: %v", i, err)
				}
				if _, err := decodeManifest(j); err != nil {
					t.Errorf("document %d: %v", i, err)
				}
			}
		})
	}
}

// TestStrictDecodeRejects shows that the strict decoding the other tests
// rely on does fail on the mistakes it is there to catch.
func TestStrictDecodeRejects(t *testing.T) {
	tests := []struct {
		name string
		yaml string
	}{
		{"misspelt field", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  template:
    spec:
      containers:
        - name: x
          image: x:1
          imagePullPolcy: Always
`},
		{"field at the wrong level", `
apiVersion: v1
kind: Service
metadata: {name: x}
spec:
  ports: [{port: 80}]
  targetPort: 8080
`},
		{"wrong type", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec: {replicas: two}
`},
		{"unknown field in the ServiceMonitor mirror", `
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: x}
spec:
  selector: {matchLabels: {a: b}}
  endpoints: [{port: admin, pathh: /metrics}]
`},
		{"unknown kind", `
apiVersion: v1
kind: Pod
metadata: {name: x}
`},
		{"unknown kustomization field", `
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resourcez: [a.yaml]
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := yaml.YAMLToJSON([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := decodeManifest(j); err == nil {
				t.Fatal("decoded without error")
			}
		})
	}
	t.Run("trailing data", func(t *testing.T) {
		if err := strictDecode([]byte(`{"kind":"Service"} {}`), &corev1.Service{}); err == nil {
			t.Fatal("decoded without error")
		}
	})
}

// TestRender renders the base and the overlay with the ServiceMonitor, and
// checks what each should and should not hold.
func TestRender(t *testing.T) {
	base := render(t, baseDir)
	t.Run("base has one of each", func(t *testing.T) {
		for what, n := range map[string]int{
			"Namespace": len(base.namespaces), "Deployment": len(base.deployments), "Service": len(base.services),
			"ConfigMap": len(base.configMaps), "HorizontalPodAutoscaler": len(base.hpas),
			"PodDisruptionBudget": len(base.pdbs), "NetworkPolicy": len(base.networkPolicies),
		} {
			if n != 1 {
				t.Errorf("%d %s, want 1", n, what)
			}
		}
	})
	t.Run("base holds no Secret", func(t *testing.T) {
		// Credentials are created out of band; the example is not applied.
		if len(base.secrets) != 0 {
			t.Errorf("the base renders %d Secrets; credentials must not be in the kustomization", len(base.secrets))
		}
	})
	t.Run("ServiceMonitor is optional", func(t *testing.T) {
		if len(base.serviceMonitors) != 0 {
			t.Errorf("the base renders a ServiceMonitor; it belongs in the optional component")
		}
	})
	t.Run("the route is a component", func(t *testing.T) {
		if len(base.ingresses)+len(base.httpRoutes) != 0 {
			t.Errorf("the base renders %d Ingresses and %d HTTPRoutes; the route is chosen by a component", len(base.ingresses), len(base.httpRoutes))
		}
	})
	t.Run("one namespace for all", func(t *testing.T) {
		ns := only(t, "Namespace", base.namespaces).Name
		for id, got := range base.namespaceOf {
			if strings.HasPrefix(id, "Namespace/") {
				continue
			}
			if got != ns {
				t.Errorf("%s is in namespace %q, want %q", id, got, ns)
			}
		}
		if got := only(t, "Namespace", base.namespaces).Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
			t.Errorf("namespace enforces pod security %q, want restricted", got)
		}
	})

	withMonitor := render(t, monitorOverlayDir)
	t.Run("overlay adds a ServiceMonitor for the admin port", func(t *testing.T) {
		sm := only(t, "ServiceMonitor", withMonitor.serviceMonitors)
		svc := only(t, "Service", withMonitor.services)
		if got, want := withMonitor.namespaceOf["ServiceMonitor/"+sm.Metadata.Name], withMonitor.namespaceOf["Service/"+svc.Name]; got != want {
			t.Errorf("ServiceMonitor in namespace %q, Service in %q", got, want)
		}
		if !selects(sm.Spec.Selector.MatchLabels, svc.Labels) {
			t.Errorf("ServiceMonitor selector %v does not select the Service's labels %v", sm.Spec.Selector.MatchLabels, svc.Labels)
		}
		if len(sm.Spec.Endpoints) != 1 {
			t.Fatalf("%d endpoints, want 1", len(sm.Spec.Endpoints))
		}
		ep := sm.Spec.Endpoints[0]
		d := only(t, "Deployment", withMonitor.deployments)
		admin := listenPort(t, envValue(t, assigndContainer(t, d), "ASSIGND_ADMIN_LISTEN"))
		if sp := servicePortByName(svc, ep.Port); sp == nil || containerPort(assigndContainer(t, d), sp.TargetPort) != admin {
			t.Errorf("ServiceMonitor scrapes Service port %q, which does not reach the admin port %d", ep.Port, admin)
		}
		if ep.Path != "/metrics" {
			t.Errorf("ServiceMonitor scrapes %q, want /metrics", ep.Path)
		}
		if len(withMonitor.deployments) != 1 || len(withMonitor.configMaps) != 1 {
			t.Error("the overlay lost part of the base")
		}
	})
	t.Run("overlay adds the alerts", func(t *testing.T) {
		if len(base.prometheusRules) != 0 {
			t.Errorf("the base renders a PrometheusRule; it belongs in the optional component")
		}
		pr := only(t, "PrometheusRule", withMonitor.prometheusRules)
		if got, want := withMonitor.namespaceOf["PrometheusRule/"+pr.Metadata.Name], withMonitor.namespaceOf["Service/assignd"]; got != want {
			t.Errorf("PrometheusRule in namespace %q, want %q", got, want)
		}
		var found bool
		for _, g := range pr.Spec.Groups {
			for _, r := range g.Rules {
				if strings.Contains(r.Expr, `outcome="timeout"`) && byRule.MatchString(r.Expr) && r.Alert != "" {
					found = true
				}
			}
		}
		if !found {
			t.Error("no alert on a rule's timeout rate")
		}
	})
}

// byRule matches a PromQL aggregation that keeps the rule label.
var byRule = regexp.MustCompile(`by \([^)]*\brule\b[^)]*\)`)

// servicePortByName returns the Service's port with that name, or nil.
func servicePortByName(svc *corev1.Service, name string) *corev1.ServicePort {
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Name == name {
			return &svc.Spec.Ports[i]
		}
	}
	return nil
}

// TestDeployment checks the rendered Deployment against the binary's
// defaults and the requirements.
func TestDeployment(t *testing.T) {
	r := render(t, baseDir)
	d := only(t, "Deployment", r.deployments)
	c := assigndContainer(t, d)
	pod := &d.Spec.Template.Spec
	vars := configVars()
	callbackPort := listenPort(t, envValue(t, c, "ASSIGND_LISTEN"))
	adminPort := listenPort(t, envValue(t, c, "ASSIGND_ADMIN_LISTEN"))

	t.Run("config defaults are the documented ones", func(t *testing.T) {
		// If these move, the Dockerfile's EXPOSE and the README move too.
		if callbackPort != 8080 || adminPort != 9090 {
			t.Errorf("callback port %d and admin port %d, want 8080 and 9090", callbackPort, adminPort)
		}
	})
	t.Run("replicas left to the autoscaler, spread over nodes", func(t *testing.T) {
		if d.Spec.Replicas != nil {
			t.Errorf("replicas %d: every apply would reset the HorizontalPodAutoscaler's count", *d.Spec.Replicas)
		}
		var byNode bool
		for _, tsc := range pod.TopologySpreadConstraints {
			if tsc.TopologyKey == "kubernetes.io/hostname" && tsc.MaxSkew == 1 && tsc.LabelSelector != nil &&
				selects(tsc.LabelSelector.MatchLabels, d.Spec.Template.Labels) {
				byNode = true
			}
		}
		if !byNode {
			t.Error("no topology spread constraint over kubernetes.io/hostname selecting the pods")
		}
	})
	t.Run("container ports match config defaults", func(t *testing.T) {
		want := map[string]int32{"callback": callbackPort, "admin": adminPort}
		got := map[string]int32{}
		for _, p := range c.Ports {
			got[p.Name] = p.ContainerPort
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("container ports %v, want %v", got, want)
		}
	})
	t.Run("probes", func(t *testing.T) {
		for _, tt := range []struct {
			name  string
			probe *corev1.Probe
			path  string
		}{
			{"readiness", c.ReadinessProbe, readyPath},
			{"liveness", c.LivenessProbe, healthPath},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if tt.probe == nil || tt.probe.HTTPGet == nil {
					t.Fatal("no HTTP probe")
				}
				if tt.probe.HTTPGet.Path != tt.path {
					t.Errorf("path %q, want %q", tt.probe.HTTPGet.Path, tt.path)
				}
				if got := containerPort(c, tt.probe.HTTPGet.Port); got != adminPort {
					t.Errorf("port %v resolves to %d, want the admin port %d", tt.probe.HTTPGet.Port.String(), got, adminPort)
				}
			})
		}
	})
	t.Run("resources", func(t *testing.T) {
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, okReq := c.Resources.Requests[name]
			lim, okLim := c.Resources.Limits[name]
			if !okReq || !okLim {
				t.Errorf("%s: request set %v, limit set %v; want both", name, okReq, okLim)
				continue
			}
			if req.Cmp(lim) > 0 {
				t.Errorf("%s request %s exceeds limit %s", name, req.String(), lim.String())
			}
		}
	})
	t.Run("security context", func(t *testing.T) {
		for _, msg := range securityProblems(d) {
			t.Error(msg)
		}
	})
	t.Run("images pinned", func(t *testing.T) {
		for _, msg := range imageProblems(d) {
			t.Error(msg)
		}
	})
	t.Run("serve under the image's entrypoint", func(t *testing.T) {
		// The image's ENTRYPOINT is the binary; the subcommand is an arg.
		if len(c.Command) != 0 || !slices.Equal(c.Args, []string{"serve"}) {
			t.Errorf("command %q args %q; want the image's entrypoint with args [serve]", c.Command, c.Args)
		}
	})
	t.Run("grace period exceeds shutdown timeout", func(t *testing.T) {
		timeout, err := time.ParseDuration(envValue(t, c, "ASSIGND_SHUTDOWN_TIMEOUT"))
		if err != nil {
			t.Fatal(err)
		}
		if pod.TerminationGracePeriodSeconds == nil {
			t.Fatal("terminationGracePeriodSeconds unset (the default is 30s)")
		}
		if grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second; grace <= timeout {
			t.Errorf("terminationGracePeriodSeconds %s does not exceed the shutdown timeout %s", grace, timeout)
		}
	})
	t.Run("env vars are ones config reads", func(t *testing.T) {
		for _, msg := range envProblems(c, vars) {
			t.Error(msg)
		}
	})
	t.Run("env is accepted by config.Load", func(t *testing.T) {
		for name := range vars {
			if _, ok := os.LookupEnv(name); ok {
				t.Setenv(name, "")
				os.Unsetenv(name)
			}
		}
		for _, e := range c.Env {
			if _, ok := vars[e.Name]; !ok {
				continue // a runtime variable such as GOMEMLIMIT
			}
			v := e.Value
			if e.ValueFrom != nil {
				v = "placeholder"
			}
			t.Setenv(e.Name, v)
		}
		cfg, err := config.Load()
		if err != nil {
			t.Fatalf("config.Load with the Deployment's env: %v", err)
		}
		if cfg.Dev {
			t.Error("the Deployment runs in dev mode, which skips signature checks")
		}
		if cfg.PublicBaseURL == "" {
			t.Error("ASSIGND_PUBLIC_BASE_URL is not set")
		} else if u, _ := url.Parse(cfg.PublicBaseURL); u.Scheme != "https" {
			t.Errorf("ASSIGND_PUBLIC_BASE_URL %q is not https; the Ingress terminates TLS", cfg.PublicBaseURL)
		}
		if cfg.LogFormat != "json" {
			t.Errorf("log format %q, want json", cfg.LogFormat)
		}
	})
	t.Run("credentials come from the Secret", func(t *testing.T) {
		example := exampleSecret(t)
		required := map[string]bool{"TWILIO_ACCOUNT_SID": true, "TWILIO_AUTH_TOKEN": true}
		seen := map[string]bool{}
		for _, e := range c.Env {
			if !strings.HasPrefix(e.Name, "TWILIO_") {
				continue
			}
			seen[e.Name] = true
			if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
				t.Errorf("%s is not from a secretKeyRef", e.Name)
				continue
			}
			ref := e.ValueFrom.SecretKeyRef
			if ref.Name != example.Name {
				t.Errorf("%s reads Secret %q; the example Secret is %q", e.Name, ref.Name, example.Name)
			}
			if _, ok := example.StringData[ref.Key]; !ok {
				t.Errorf("%s reads key %q, which the example Secret lacks", e.Name, ref.Key)
			}
			optional := ref.Optional != nil && *ref.Optional
			if required[e.Name] && optional {
				t.Errorf("%s is optional but required", e.Name)
			}
		}
		for name := range required {
			if !seen[name] {
				t.Errorf("%s is not set", name)
			}
		}
	})
	t.Run("policy mounted as a directory", func(t *testing.T) {
		cm := only(t, "ConfigMap", r.configMaps)
		file := envValue(t, c, "ASSIGND_POLICY_FILE")
		var vol *corev1.Volume
		for i := range pod.Volumes {
			if v := &pod.Volumes[i]; v.ConfigMap != nil && v.ConfigMap.Name == cm.Name {
				vol = v
			}
		}
		if vol == nil {
			t.Fatalf("no volume of ConfigMap %s", cm.Name)
		}
		if len(vol.ConfigMap.Items) != 0 {
			t.Errorf("the volume selects items %v; mount the whole ConfigMap", vol.ConfigMap.Items)
		}
		var mounted bool
		for _, m := range c.VolumeMounts {
			if m.Name != vol.Name {
				continue
			}
			mounted = true
			if m.SubPath != "" || m.SubPathExpr != "" {
				t.Errorf("policy mounted with subPath %q: a subPath mount never sees ConfigMap updates", m.SubPath+m.SubPathExpr)
			}
			if path.Clean(m.MountPath) != path.Dir(file) {
				t.Errorf("policy mounted at %s, but ASSIGND_POLICY_FILE is %s", m.MountPath, file)
			}
			if !m.ReadOnly {
				t.Error("policy mount is not read-only")
			}
		}
		if !mounted {
			t.Error("policy volume is not mounted")
		}
		if _, ok := cm.Data[path.Base(file)]; !ok {
			t.Errorf("ConfigMap %s has no key %q, the file ASSIGND_POLICY_FILE names", cm.Name, path.Base(file))
		}
		if vol.ConfigMap.DefaultMode != nil && *vol.ConfigMap.DefaultMode != 0o444 {
			t.Errorf("policy defaultMode %#o, want 0444", *vol.ConfigMap.DefaultMode)
		}
	})
}

// securityProblems lists how the Deployment's pod falls short of the
// security context the issue asks for: non-root, read-only root file
// system, no privilege escalation, every capability dropped, RuntimeDefault
// seccomp.
func securityProblems(d *appsv1.Deployment) []string {
	var out []string
	pod := &d.Spec.Template.Spec
	psc := pod.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	all := append(slices.Clone(pod.InitContainers), pod.Containers...)
	for _, c := range all {
		sc := c.SecurityContext
		if sc == nil {
			out = append(out, c.Name+": no securityContext")
			continue
		}
		nonRoot := sc.RunAsNonRoot
		if nonRoot == nil {
			nonRoot = psc.RunAsNonRoot
		}
		if nonRoot == nil || !*nonRoot {
			out = append(out, c.Name+": runAsNonRoot is not true")
		}
		uid := sc.RunAsUser
		if uid == nil {
			uid = psc.RunAsUser
		}
		if uid != nil && *uid == 0 {
			out = append(out, c.Name+": runs as uid 0")
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			out = append(out, c.Name+": readOnlyRootFilesystem is not true")
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			out = append(out, c.Name+": allowPrivilegeEscalation is not false")
		}
		if sc.Privileged != nil && *sc.Privileged {
			out = append(out, c.Name+": privileged")
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			out = append(out, c.Name+": capabilities do not drop ALL")
		} else if len(sc.Capabilities.Add) != 0 {
			out = append(out, fmt.Sprintf("%s: capabilities add %v", c.Name, sc.Capabilities.Add))
		}
		seccomp := sc.SeccompProfile
		if seccomp == nil {
			seccomp = psc.SeccompProfile
		}
		if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
			out = append(out, c.Name+": seccompProfile is not RuntimeDefault")
		}
	}
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		out = append(out, "pod shares a host namespace")
	}
	return out
}

// latestTag matches an image reference without a tag or digest, or with the
// tag latest.
var latestTag = regexp.MustCompile(`(:latest(@.*)?$)|(^[^:@]*(:[0-9]+/[^:@]*)?$)`)

// imageProblems lists the Deployment's images that are untagged or :latest.
func imageProblems(d *appsv1.Deployment) []string {
	var out []string
	pod := &d.Spec.Template.Spec
	for _, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
		if c.Image == "" || latestTag.MatchString(c.Image) {
			out = append(out, fmt.Sprintf("%s: image %q is not pinned to a tag other than latest", c.Name, c.Image))
		}
	}
	return out
}

// envProblems lists the env vars the container sets that package config
// does not read (a typo, or a variable that nothing reads), and any set
// twice. The one runtime variable allowed is GOMEMLIMIT, and only from the
// container's memory limit.
func envProblems(c *corev1.Container, vars map[string]configVar) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range c.Env {
		if e.Name == "GOMEMLIMIT" {
			if f := e.ValueFrom; f == nil || f.ResourceFieldRef == nil || f.ResourceFieldRef.Resource != "limits.memory" {
				out = append(out, "GOMEMLIMIT is not the container's memory limit (resourceFieldRef limits.memory)")
			}
		} else if _, ok := vars[e.Name]; !ok {
			out = append(out, fmt.Sprintf("env %s is not read by package config", e.Name))
		}
		if seen[e.Name] {
			out = append(out, fmt.Sprintf("env %s is set twice", e.Name))
		}
		seen[e.Name] = true
	}
	if len(c.EnvFrom) != 0 {
		out = append(out, "envFrom sets variables the test cannot check")
	}
	return out
}

// TestCheckersCatchMistakes feeds the checkers above broken Deployments, so
// that a checker that cannot fail does not pass unnoticed.
func TestCheckersCatchMistakes(t *testing.T) {
	good := only(t, "Deployment", render(t, baseDir).deployments)
	if p := securityProblems(good); len(p) != 0 {
		t.Fatalf("the rendered Deployment has problems: %v", p)
	}
	tests := []struct {
		name   string
		mutate func(d *appsv1.Deployment)
		check  func(d *appsv1.Deployment) []string
	}{
		{"writable root", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem = nil
		}, securityProblems},
		{"capability added", func(d *appsv1.Deployment) {
			sc := d.Spec.Template.Spec.Containers[0].SecurityContext
			sc.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
		}, securityProblems},
		{"no seccomp anywhere", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].SecurityContext.SeccompProfile = nil
			d.Spec.Template.Spec.SecurityContext.SeccompProfile = nil
		}, securityProblems},
		{"root", func(d *appsv1.Deployment) {
			f := false
			d.Spec.Template.Spec.Containers[0].SecurityContext.RunAsNonRoot = &f
		}, securityProblems},
		{"latest tag", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Image = "ghcr.io/assignd/assignd:latest"
		}, imageProblems},
		{"no tag", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Image = "registry.local:5000/assignd"
		}, imageProblems},
		{"latest init container", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox"}}
		}, imageProblems},
		{"env typo", func(d *appsv1.Deployment) {
			c := &d.Spec.Template.Spec.Containers[0]
			c.Env = append(c.Env, corev1.EnvVar{Name: "ASSIGND_PUBLIC_BASEURL", Value: "https://x"})
		}, func(d *appsv1.Deployment) []string {
			return envProblems(&d.Spec.Template.Spec.Containers[0], configVars())
		}},
		{"GOMEMLIMIT as a literal", func(d *appsv1.Deployment) {
			c := &d.Spec.Template.Spec.Containers[0]
			for i := range c.Env {
				if c.Env[i].Name == "GOMEMLIMIT" {
					c.Env[i] = corev1.EnvVar{Name: "GOMEMLIMIT", Value: "200MiB"}
				}
			}
		}, func(d *appsv1.Deployment) []string {
			return envProblems(&d.Spec.Template.Spec.Containers[0], configVars())
		}},
		{"env for the runtime, not config", func(d *appsv1.Deployment) {
			c := &d.Spec.Template.Spec.Containers[0]
			c.Env = append(c.Env, corev1.EnvVar{Name: "GOMAXPROCS", Value: "2"})
		}, func(d *appsv1.Deployment) []string {
			return envProblems(&d.Spec.Template.Spec.Containers[0], configVars())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := good.DeepCopy()
			if len(tt.check(d)) != 0 {
				t.Fatal("the unbroken Deployment already fails")
			}
			tt.mutate(d)
			if len(tt.check(d)) == 0 {
				t.Fatal("the checker did not notice")
			}
		})
	}
	t.Run("pinned images pass", func(t *testing.T) {
		for _, img := range []string{"ghcr.io/assignd/assignd:0.1.0", "registry.local:5000/assignd:1.2", "assignd@sha256:abc", "a/b:1.0@sha256:abc"} {
			if latestTag.MatchString(img) {
				t.Errorf("%s is flagged", img)
			}
		}
	})
}

// exampleSecret decodes kubernetes/secret.example.yaml.
func exampleSecret(t *testing.T) *corev1.Secret {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(baseDir, "secret.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var s corev1.Secret
	if err := strictDecodeYAML(data, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// TestExampleSecret checks that the example Secret holds placeholders only
// and says not to commit real values.
func TestExampleSecret(t *testing.T) {
	s := exampleSecret(t)
	data, err := os.ReadFile(filepath.Join(baseDir, "secret.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(bytes.ToLower(data), []byte("never commit real")) {
		t.Error("the example Secret does not warn against committing real credentials")
	}
	realSid := regexp.MustCompile(`^(AC|SK)[0-9a-f]{32}$`)
	realToken := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for k, v := range s.StringData {
		if realSid.MatchString(v) || realToken.MatchString(v) {
			t.Errorf("%s looks like a real credential", k)
		}
	}
	for _, k := range []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN_SECONDARY", "TWILIO_API_KEY", "TWILIO_API_SECRET"} {
		if _, ok := s.StringData[k]; !ok {
			t.Errorf("the example Secret lacks %s", k)
		}
	}
	if len(s.Data) != 0 {
		t.Error("the example Secret has base64 data; use stringData so placeholders are visible")
	}
}

// TestService checks that the Service selects the pods and exposes the
// callback and admin ports.
func TestService(t *testing.T) {
	r := render(t, baseDir)
	d := only(t, "Deployment", r.deployments)
	c := assigndContainer(t, d)
	svc := only(t, "Service", r.services)
	if !selects(svc.Spec.Selector, d.Spec.Template.Labels) {
		t.Errorf("Service selector %v does not select the pods %v", svc.Spec.Selector, d.Spec.Template.Labels)
	}
	for name, want := range map[string]int32{
		"callback": listenPort(t, envValue(t, c, "ASSIGND_LISTEN")),
		"admin":    listenPort(t, envValue(t, c, "ASSIGND_ADMIN_LISTEN")),
	} {
		sp := servicePortByName(svc, name)
		if sp == nil {
			t.Errorf("no Service port %q", name)
			continue
		}
		if got := containerPort(c, sp.TargetPort); got != want {
			t.Errorf("Service port %q targets container port %d, want %d", name, got, want)
		}
	}
	if svc.Spec.Type != "" && svc.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("Service type %s exposes the admin port outside the cluster; want ClusterIP", svc.Spec.Type)
	}
}

// ingressProblems lists how the Ingress departs from: TLS for every host,
// only paths under /taskrouter/ routed, all to the Service port that reaches
// the callback port, none to the admin port.
func ingressProblems(ing *networkingv1.Ingress, svc *corev1.Service, c *corev1.Container, callbackPort int32) []string {
	var out []string
	if ing.Spec.DefaultBackend != nil {
		out = append(out, "the Ingress has a default backend, which routes every path")
	}
	tlsHosts := map[string]bool{}
	for _, tls := range ing.Spec.TLS {
		if tls.SecretName == "" {
			out = append(out, "a TLS entry names no secret")
		}
		for _, h := range tls.Hosts {
			tlsHosts[h] = true
		}
	}
	if len(ing.Spec.Rules) == 0 {
		out = append(out, "the Ingress has no rules")
	}
	routes := map[string]bool{}
	for _, rule := range ing.Spec.Rules {
		if rule.Host == "" || !tlsHosts[rule.Host] {
			out = append(out, fmt.Sprintf("host %q is not covered by TLS", rule.Host))
		}
		if rule.HTTP == nil {
			continue
		}
		for _, p := range rule.HTTP.Paths {
			if p.PathType == nil || (*p.PathType != networkingv1.PathTypePrefix && *p.PathType != networkingv1.PathTypeExact) {
				out = append(out, fmt.Sprintf("path %q: pathType must be Prefix or Exact", p.Path))
			}
			if !strings.HasPrefix(p.Path, "/taskrouter/") {
				out = append(out, fmt.Sprintf("path %q is outside /taskrouter/", p.Path))
			}
			b := p.Backend.Service
			if b == nil || b.Name != svc.Name {
				out = append(out, fmt.Sprintf("path %q does not route to Service %s", p.Path, svc.Name))
				continue
			}
			var sp *corev1.ServicePort
			for i := range svc.Spec.Ports {
				if q := &svc.Spec.Ports[i]; (b.Port.Name != "" && q.Name == b.Port.Name) || (b.Port.Name == "" && q.Port == b.Port.Number) {
					sp = q
				}
			}
			if sp == nil {
				out = append(out, fmt.Sprintf("path %q routes to a port the Service lacks", p.Path))
				continue
			}
			if got := containerPort(c, sp.TargetPort); got != callbackPort {
				out = append(out, fmt.Sprintf("path %q routes to container port %d, not the callback port %d", p.Path, got, callbackPort))
			}
			for _, want := range []string{callbackPath, eventsPath} {
				if p.PathType != nil && strings.HasPrefix(want, p.Path) && (*p.PathType == networkingv1.PathTypePrefix || p.Path == want) {
					routes[want] = true
				}
			}
		}
	}
	for _, want := range []string{callbackPath, eventsPath} {
		if !routes[want] {
			out = append(out, "no path routes "+want)
		}
	}
	return out
}

// TestIngress checks the rendered Ingress, and that its checker notices the
// mistakes it is there for.
func TestIngress(t *testing.T) {
	r := renderWith(t, "ingress")
	d := only(t, "Deployment", r.deployments)
	c := assigndContainer(t, d)
	svc := only(t, "Service", r.services)
	ing := only(t, "Ingress", r.ingresses)
	callbackPort := listenPort(t, envValue(t, c, "ASSIGND_LISTEN"))
	for _, msg := range ingressProblems(ing, svc, c, callbackPort) {
		t.Error(msg)
	}
	t.Run("host matches the public base URL", func(t *testing.T) {
		// Signatures are checked against ASSIGND_PUBLIC_BASE_URL: it must be
		// the URL TaskRouter calls, the Ingress's host.
		u, err := url.Parse(envValue(t, c, "ASSIGND_PUBLIC_BASE_URL"))
		if err != nil {
			t.Fatal(err)
		}
		for _, rule := range ing.Spec.Rules {
			if rule.Host != u.Hostname() {
				t.Errorf("Ingress host %q, ASSIGND_PUBLIC_BASE_URL host %q", rule.Host, u.Hostname())
			}
		}
	})

	broken := []struct {
		name   string
		mutate func(ing *networkingv1.Ingress)
	}{
		{"admin port routed", func(ing *networkingv1.Ingress) {
			p := &ing.Spec.Rules[0].HTTP.Paths[0]
			p.Backend.Service.Port = networkingv1.ServiceBackendPort{Name: "admin"}
		}},
		{"admin port by number", func(ing *networkingv1.Ingress) {
			p := &ing.Spec.Rules[0].HTTP.Paths[0]
			p.Backend.Service.Port = networkingv1.ServiceBackendPort{Number: 9090}
		}},
		{"root path", func(ing *networkingv1.Ingress) {
			ing.Spec.Rules[0].HTTP.Paths[0].Path = "/"
		}},
		{"events not routed", func(ing *networkingv1.Ingress) {
			ing.Spec.Rules[0].HTTP.Paths[0].Path = callbackPath
		}},
		{"metrics path added", func(ing *networkingv1.Ingress) {
			paths := &ing.Spec.Rules[0].HTTP.Paths
			extra := (*paths)[0]
			extra.Path = "/metrics"
			*paths = append(*paths, extra)
		}},
		{"no TLS", func(ing *networkingv1.Ingress) {
			ing.Spec.TLS = nil
		}},
		{"default backend", func(ing *networkingv1.Ingress) {
			ing.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service}
		}},
	}
	for _, tt := range broken {
		t.Run("catches "+tt.name, func(t *testing.T) {
			b := ing.DeepCopy()
			tt.mutate(b)
			if len(ingressProblems(b, svc, c, callbackPort)) == 0 {
				t.Fatal("the checker did not notice")
			}
		})
	}
}

// TestPolicyConfigMap checks the two policy roll-out styles: the base's
// ConfigMap has a content hash in its name (a change is a rollout), the
// policy-reload component's a stable name (a change reloads in place); in
// both the Deployment mounts that ConfigMap, whose policy parses.
func TestPolicyConfigMap(t *testing.T) {
	for _, tt := range []struct {
		name   string
		r      *rendered
		stable bool
	}{
		{"base: rollout", render(t, baseDir), false},
		{"policy-reload", renderWith(t, "policy-reload"), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cm := only(t, "ConfigMap", tt.r.configMaps)
			if tt.stable && cm.Name != "assignd-policy" {
				t.Errorf("ConfigMap is named %q; a hash suffix would turn every edit into a rollout instead of a reload", cm.Name)
			}
			if !tt.stable && !regexp.MustCompile(`^assignd-policy-[a-z0-9]{10}$`).MatchString(cm.Name) {
				t.Errorf("ConfigMap is named %q; without the hash suffix a change would not roll out", cm.Name)
			}
			d := only(t, "Deployment", tt.r.deployments)
			var mounted bool
			for _, v := range d.Spec.Template.Spec.Volumes {
				mounted = mounted || (v.ConfigMap != nil && v.ConfigMap.Name == cm.Name)
			}
			if !mounted {
				t.Errorf("the Deployment mounts no ConfigMap named %s", cm.Name)
			}
			if len(cm.Data) != 1 {
				t.Errorf("ConfigMap has keys %v, want just the policy", slices.Collect(mapKeys(cm.Data)))
			}
			for name, src := range cm.Data {
				if _, err := policy.Parse(name, []byte(src)); err != nil {
					t.Errorf("%s does not parse: %v", name, err)
				}
			}
		})
	}
	t.Run("a broken policy fails", func(t *testing.T) {
		// policy.Parse is the check above; make sure it can fail.
		if _, err := policy.Parse("broken.yaml", []byte("version: 1\nrules:\n  - name: x\n    instruction: teleport\n")); err == nil {
			t.Fatal("policy.Parse accepted an unknown instruction")
		}
	})
}

// mapKeys yields the keys of m.
func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestScalingAndDisruption checks the HorizontalPodAutoscaler and the
// PodDisruptionBudget against the Deployment.
func TestScalingAndDisruption(t *testing.T) {
	r := render(t, baseDir)
	d := only(t, "Deployment", r.deployments)
	c := assigndContainer(t, d)
	t.Run("hpa", func(t *testing.T) {
		h := only(t, "HorizontalPodAutoscaler", r.hpas)
		if ref := h.Spec.ScaleTargetRef; ref.Kind != "Deployment" || ref.Name != d.Name || ref.APIVersion != "apps/v1" {
			t.Errorf("scales %s %s %s, want apps/v1 Deployment %s", ref.APIVersion, ref.Kind, ref.Name, d.Name)
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 || *h.Spec.MinReplicas > h.Spec.MaxReplicas {
			t.Errorf("minReplicas %v maxReplicas %d; want 2 <= min <= max", h.Spec.MinReplicas, h.Spec.MaxReplicas)
		}
		if d.Spec.Replicas != nil && h.Spec.MinReplicas != nil && *d.Spec.Replicas != *h.Spec.MinReplicas {
			t.Errorf("Deployment replicas %d, HPA minReplicas %d; each apply would fight the autoscaler less if they agree", *d.Spec.Replicas, *h.Spec.MinReplicas)
		}
		var cpu bool
		for _, m := range h.Spec.Metrics {
			if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU &&
				m.Resource.Target.Type == autoscalingv2.UtilizationMetricType && m.Resource.Target.AverageUtilization != nil {
				cpu = true
			}
		}
		if !cpu {
			t.Error("the HPA does not scale on CPU utilization")
		}
		if _, ok := c.Resources.Requests[corev1.ResourceCPU]; !ok {
			t.Error("CPU utilization needs a CPU request")
		}
	})
	t.Run("pdb", func(t *testing.T) {
		p := only(t, "PodDisruptionBudget", r.pdbs)
		if p.Spec.Selector == nil || !selects(p.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
			t.Error("the PodDisruptionBudget does not select the pods")
		}
		switch {
		case p.Spec.MaxUnavailable != nil:
			if p.Spec.MaxUnavailable.Type != intstr.Int || p.Spec.MaxUnavailable.IntVal < 1 {
				t.Errorf("maxUnavailable %s blocks every drain", p.Spec.MaxUnavailable.String())
			}
		case p.Spec.MinAvailable != nil:
			if p.Spec.MinAvailable.Type != intstr.Int || d.Spec.Replicas == nil || p.Spec.MinAvailable.IntVal >= *d.Spec.Replicas {
				t.Errorf("minAvailable %s blocks every drain at %v replicas", p.Spec.MinAvailable.String(), d.Spec.Replicas)
			}
		default:
			t.Error("the PodDisruptionBudget sets neither minAvailable nor maxUnavailable")
		}
	})
}

// TestNetworkPolicy checks that callbacks are let in only from the ingress
// controller's namespace and the admin port only from monitoring.
func TestNetworkPolicy(t *testing.T) {
	r := render(t, baseDir)
	d := only(t, "Deployment", r.deployments)
	c := assigndContainer(t, d)
	np := only(t, "NetworkPolicy", r.networkPolicies)
	callbackPort := listenPort(t, envValue(t, c, "ASSIGND_LISTEN"))
	adminPort := listenPort(t, envValue(t, c, "ASSIGND_ADMIN_LISTEN"))
	if !selects(np.Spec.PodSelector.MatchLabels, d.Spec.Template.Labels) {
		t.Errorf("podSelector %v does not select the pods", np.Spec.PodSelector.MatchLabels)
	}
	if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
		t.Error("policyTypes lacks Ingress")
	}
	// allowed maps each container port to the namespaces allowed to reach it.
	allowed := map[int32][]string{}
	for i, rule := range np.Spec.Ingress {
		if len(rule.From) == 0 {
			t.Errorf("rule %d admits every source", i)
		}
		if len(rule.Ports) == 0 {
			t.Errorf("rule %d admits every port", i)
		}
		var from []string
		for _, peer := range rule.From {
			if peer.IPBlock != nil || peer.NamespaceSelector == nil || peer.PodSelector != nil {
				t.Errorf("rule %d: want peers by namespace only, have %+v", i, peer)
				continue
			}
			ns := peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]
			if ns == "" || len(peer.NamespaceSelector.MatchLabels) != 1 || len(peer.NamespaceSelector.MatchExpressions) != 0 {
				t.Errorf("rule %d: namespace selector %v does not name one namespace", i, peer.NamespaceSelector)
			}
			from = append(from, ns)
		}
		for _, p := range rule.Ports {
			if p.Port == nil {
				t.Errorf("rule %d admits every port", i)
				continue
			}
			n := containerPort(c, *p.Port)
			allowed[n] = append(allowed[n], from...)
		}
	}
	want := map[int32][]string{callbackPort: {"ingress-nginx"}, adminPort: {"monitoring"}}
	if !reflect.DeepEqual(allowed, want) {
		t.Errorf("ports reachable from namespaces %v, want %v", allowed, want)
	}
}

// TestDockerfile checks the Dockerfile's key lines against the issue and the
// config defaults.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	vars := configVars()
	expose := fmt.Sprintf("EXPOSE %d %d", listenPort(t, vars["ASSIGND_LISTEN"].Default), listenPort(t, vars["ASSIGND_ADMIN_LISTEN"].Default))
	for _, want := range []string{
		"CGO_ENABLED=0",
		"-trimpath",
		"-X github.com/assignd/assignd/internal/buildinfo.Version=${VERSION}",
		"-X github.com/assignd/assignd/internal/buildinfo.Revision=${REVISION}",
		"-X github.com/assignd/assignd/internal/buildinfo.Date=${DATE}",
		"ARG VERSION",
		"FROM gcr.io/distroless/static-debian12:nonroot\n",
		"COPY --from=build /out/assignd /assignd",
		expose + "\n",
		// The binary as entrypoint, so that `docker run IMAGE validate
		// policy.yaml` runs validate; serve by default.
		"ENTRYPOINT [\"/assignd\"]\nCMD [\"serve\"]\n",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
	var froms int
	for _, line := range strings.Split(src, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.EqualFold(f[0], "FROM") {
			continue
		}
		froms++
		var img string
		for _, w := range f[1:] {
			if !strings.HasPrefix(w, "--") {
				img = w
				break
			}
		}
		if latestTag.MatchString(img) {
			t.Errorf("base image %q is not pinned to a tag other than latest", img)
		}
	}
	if froms != 2 {
		t.Errorf("%d FROM lines, want a builder and the final image", froms)
	}
	if m := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindStringSubmatch(src); m == nil || strings.HasPrefix(m[1], "0") || strings.HasPrefix(m[1], "root") {
		t.Errorf("the final image's USER is %v; want nonroot", m)
	}
}
