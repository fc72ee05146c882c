// varlink_client: a client of kaasd written with the varlink project's Go
// library (github.com/varlink/go, Debian golang-github-varlink-go-dev), to
// show that kaasd speaks varlink as other implementations do.
//
// Usage: varlink_client SOCKET USER DOMAIN
//
// Calls org.varlink.service.GetInfo (the library sends "parameters": null
// for a method without parameters), fetches the description of every
// interface kaasd lists and parses it with the library's own IDL parser
// (see upperCaseNamesParse), then looks USER in DOMAIN up with
// io.kaas.Identity.GetUser.
// Prints one line per result; exits 1 at the first failure.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/varlink/go/varlink"
	"github.com/varlink/go/varlink/idl"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "varlink_client: "+format+"\n", args...)
	os.Exit(1)
}

type getUserIn struct {
	Name   string `json:"name"`
	Domain string `json:"domain"`
}

type getUserOut struct {
	User struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		DomainID string `json:"domain_id"`
		Enabled  bool   `json:"enabled"`
	} `json:"user"`
}

// Versions of the library before varlink/go#29 (Debian's 0.4.0 among them)
// take only lower-case interface names, as the varlink specification did
// until 2021; kaas's and systemd's names have upper-case letters. With such
// a version the name on the interface line is lowercased before parsing,
// so that everything else in the description still meets the parser.
func upperCaseNamesParse() bool {
	_, err := idl.New("interface a.B\nmethod F() -> ()\n")
	return err == nil
}

func main() {
	if len(os.Args) != 4 {
		fail("usage: varlink_client SOCKET USER DOMAIN")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := varlink.NewConnection(ctx, "unix:"+os.Args[1])
	if err != nil {
		fail("connect: %v", err)
	}
	defer c.Close()

	var vendor, product, version, url string
	var interfaces []string
	if err := c.GetInfo(ctx, &vendor, &product, &version, &url, &interfaces); err != nil {
		fail("GetInfo: %v", err)
	}
	fmt.Printf("info vendor=%s product=%s interfaces=%s\n", vendor, product, strings.Join(interfaces, ","))

	upperOK := upperCaseNamesParse()
	for _, name := range interfaces {
		desc, err := c.GetInterfaceDescription(ctx, name)
		if err != nil {
			fail("GetInterfaceDescription %s: %v", name, err)
		}
		text, how := desc, "as-is"
		if !upperOK && name != strings.ToLower(name) {
			text = strings.Replace(desc, "interface "+name+"\n", "interface "+strings.ToLower(name)+"\n", 1)
			how = "lowercased"
		}
		parsed, err := idl.New(text)
		if err != nil {
			fail("parsing the IDL of %s (name %s): %v", name, how, err)
		}
		if !strings.EqualFold(parsed.Name, name) {
			fail("the description of %s names interface %s", name, parsed.Name)
		}
		fmt.Printf("idl %s methods=%d types=%d errors=%d name=%s\n", name, len(parsed.Methods),
			len(parsed.Aliases), len(parsed.Errors), how)
	}

	var user getUserOut
	in := getUserIn{Name: os.Args[2], Domain: os.Args[3]}
	if err := c.Call(ctx, "io.kaas.Identity.GetUser", in, &user); err != nil {
		fail("io.kaas.Identity.GetUser %s: %v", in.Name, err)
	}
	fmt.Printf("user id=%s name=%s domain=%s enabled=%t\n", user.User.ID, user.User.Name,
		user.User.DomainID, user.User.Enabled)
}
