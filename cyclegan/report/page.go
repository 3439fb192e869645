package report

import (
	"bytes"
	"embed"
	"html/template"
	"io"

	"github.com/camcycle/camcycle/cyclegan/checkpoint"
)

// Page is one results page.
type Page struct {
	Title    string
	Notes    []string  // paragraphs under the title
	Charts   []Chart   // drawn as inline SVG
	Tables   []Table   // tables of figures, above the pictures
	Sections []Section // picture grids
}

// Table is a titled table of text cells (figures such as FID), with a
// header row.
type Table struct {
	Heading string
	Note    string
	Header  []string
	Rows    [][]string
}

// Section is a titled grid of pictures.
type Section struct {
	Heading string
	Note    string
	Columns []string // column headings; may be empty
	Rows    []Row
}

// Row is one line of a grid: a label and its pictures.
type Row struct {
	Label string `json:"label"`
	Cells []Cell `json:"cells"`
}

// Cell is one picture, Src relative to the page, with a caption under it.
type Cell struct {
	Src     string `json:"src"`
	Caption string `json:"caption"`
}

//go:embed page.html.tmpl
var templates embed.FS

// pageTemplate parses the page template (with the chart template it uses).
func pageTemplate() *template.Template {
	return template.Must(template.New("page.html.tmpl").ParseFS(templates, "page.html.tmpl"))
}

// Render writes p as HTML to w.
func (p Page) Render(w io.Writer) error {
	view := struct {
		Page
		ChartViews []chartLayout
	}{Page: p}
	for _, c := range p.Charts {
		view.ChartViews = append(view.ChartViews, c.layout())
	}
	var buf bytes.Buffer
	if err := pageTemplate().Execute(&buf, view); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Write writes p as HTML to path, atomically.
func (p Page) Write(path string) error {
	return checkpoint.WriteFileAtomic(path, p.Render)
}
