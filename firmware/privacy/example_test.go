package privacy_test

import (
	"fmt"
	"os"
	"time"

	"hallgw/firmware/privacy"
)

// ExampleKeeper_HolderHash computes the holder hash of docs/privacy.md's
// test vector; the number may come typed in any of its forms.
func ExampleKeeper_HolderHash() {
	dir, err := os.MkdirTemp("", "keystore")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	k, err := privacy.Open(dir, privacy.Opts{Secret: []byte("hallgw-example-hall-secret"), Retention: 30 * 24 * time.Hour})
	if err != nil {
		panic(err)
	}
	fmt.Println(k.HolderHash("11010519491231002X"))
	fmt.Println(k.HolderHash(" 110105 19491231 002x") == k.HolderHash("11010519491231002X"))
	// Output:
	// h1:36796cb53117e77f3d54e860160bef2363f6d06bda3b7a3dc8227bd09ab3d905
	// true
}

// ExampleSubject shows that a Subject prints masked.
func ExampleSubject() {
	s := privacy.Subject{Name: "张三丰", Number: "430102199001011234"}
	fmt.Println(s)
	fmt.Printf("%+v\n", s)
	// Output:
	// 张*丰 4301**********1234
	// 张*丰 4301**********1234
}
