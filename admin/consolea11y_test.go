package admin

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// TestConsoleHeadingsAndNames checks the full page's structure for screen
// readers and keyboards: one h1, headings that never skip a level, every
// panel a labelled section, every chart named, and every element that
// takes focus without being a control named too.
func TestConsoleHeadingsAndNames(t *testing.T) {
	env := newFullEnv(t)
	env.run(t, 2)
	doc, err := html.Parse(strings.NewReader(get(t, env.admin.URL, "/")))
	if err != nil {
		t.Fatal(err)
	}
	var levels []int
	var problems []string
	ids := map[string]bool{}
	var labelledBy []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			a := attrs(n)
			if a["id"] != "" {
				ids[a["id"]] = true
			}
			if len(n.Data) == 2 && n.Data[0] == 'h' && n.Data[1] >= '1' && n.Data[1] <= '6' {
				levels = append(levels, int(n.Data[1]-'0'))
			}
			switch {
			case n.Data == "section":
				if a["aria-labelledby"] == "" {
					problems = append(problems, "a section without aria-labelledby")
				}
				labelledBy = append(labelledBy, a["aria-labelledby"])
			case n.Data == "svg" && a["role"] == "img" && a["aria-label"] == "":
				problems = append(problems, "a chart without a name")
			case n.Data == "svg" && a["role"] != "img" && a["aria-hidden"] != "true":
				problems = append(problems, "an svg neither named nor hidden")
			case a["tabindex"] != "" && a["aria-label"] == "":
				problems = append(problems, "focusable <"+n.Data+"> without a name")
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if len(levels) == 0 || levels[0] != 1 {
		problems = append(problems, fmt.Sprintf("the first heading is not an h1: %v", levels))
	}
	for i := 1; i < len(levels); i++ {
		if levels[i] == 1 {
			problems = append(problems, "a second h1")
		}
		if levels[i] > levels[i-1]+1 {
			problems = append(problems, fmt.Sprintf("heading h%d follows h%d", levels[i], levels[i-1]))
		}
	}
	for _, id := range labelledBy {
		if !ids[id] {
			problems = append(problems, "aria-labelledby names a missing id "+id)
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
}

func attrs(n *html.Node) map[string]string {
	a := map[string]string{}
	for _, at := range n.Attr {
		a[at.Key] = at.Val
	}
	return a
}

// textOnBackground are the text colours and the backgrounds each is read
// on, by custom property name.
var textOnBackground = map[string][]string{
	"fg":    {"bg", "panel", "head", "banner-bad", "banner-warn"},
	"muted": {"bg", "panel", "head"},
	"link":  {"bg", "panel"},
	"good":  {"bg", "panel"},
	"bad":   {"bg", "panel"},
	"warn":  {"bg", "panel"},
}

// TestConsoleContrast computes, from the style sheet, the contrast of the
// main text colours on their backgrounds, light and dark: at least 4.5:1,
// WCAG's AA for body text.
func TestConsoleContrast(t *testing.T) {
	css, err := consoleFiles.ReadFile("console/console.css")
	if err != nil {
		t.Fatal(err)
	}
	light, dark := cssVars(t, string(css))
	for scheme, vars := range map[string]map[string]string{"light": light, "dark": dark} {
		for text, bgs := range textOnBackground {
			for _, bg := range bgs {
				fg, back := vars[text], vars[bg]
				if fg == "" || back == "" {
					t.Errorf("%s: --%s or --%s is not set", scheme, text, bg)
					continue
				}
				if r := contrast(t, fg, back); r < 4.5 {
					t.Errorf("%s: --%s %s on --%s %s has contrast %.2f, want at least 4.5", scheme, text, fg, bg, back, r)
				}
			}
		}
	}
}

var (
	rootBlock = regexp.MustCompile(`(?s):root\s*\{(.*?)\}`)
	darkBlock = regexp.MustCompile(`(?s)@media \(prefers-color-scheme: dark\)\s*\{\s*:root\s*\{(.*?)\}`)
	cssVar    = regexp.MustCompile(`--([a-z-]+):\s*(#[0-9a-fA-F]{6})\s*;`)
)

// cssVars reads the colour custom properties of the light :root block and
// the dark one, the dark inheriting what it does not set.
func cssVars(t *testing.T, css string) (light, dark map[string]string) {
	t.Helper()
	l, d := rootBlock.FindStringSubmatch(css), darkBlock.FindStringSubmatch(css)
	if l == nil || d == nil {
		t.Fatal("the style sheet lacks a :root block or its dark variant")
	}
	light, dark = map[string]string{}, map[string]string{}
	for _, m := range cssVar.FindAllStringSubmatch(l[1], -1) {
		light[m[1]], dark[m[1]] = m[2], m[2]
	}
	for _, m := range cssVar.FindAllStringSubmatch(d[1], -1) {
		dark[m[1]] = m[2]
	}
	return light, dark
}

// contrast is WCAG 2's contrast ratio of two #rrggbb colours.
func contrast(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// luminance is WCAG 2's relative luminance of #rrggbb.
func luminance(t *testing.T, hex string) float64 {
	v, err := strconv.ParseUint(hex[1:], 16, 32)
	if err != nil {
		t.Fatalf("colour %q: %v", hex, err)
	}
	var l float64
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		c := float64(v>>(16-8*i)&0xff) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		l += w * c
	}
	return l
}

func TestContrastFormula(t *testing.T) {
	if r := contrast(t, "#000000", "#ffffff"); math.Abs(r-21) > 1e-9 {
		t.Errorf("black on white %.3f, want 21", r)
	}
	if r := contrast(t, "#767676", "#ffffff"); math.Abs(r-4.54) > 0.01 {
		t.Errorf("#767676 on white %.3f, want 4.54", r)
	}
}
