// Package identity signs staff in and out at their windows with their
// resident ID card (考勤, DB43/T 2422 part 2 §9.1): an ID-card reader at the
// window (package drivers/idcard) reads the card, the card's holder hash
// (privacy.Keeper.HolderHash) is looked up in the staff roster, and the
// window opens for that staff member (hall.OpOpenWindow with the staff
// id), which ties the calls and ratings that follow to them. A second swipe
// by the same person closes the window (hall.OpCloseWindow); a swipe by
// another rostered person while the window is open hands it over (close,
// then open for the newcomer). A window still serving a ticket is not
// closed.
//
// The roster holds holder hashes only (the id_hash of each staff member in
// the configuration), never a clear ID number. A card that is not on the
// roster is refused: the window's display is told through the Notify hook
// and the log line names the window and a short prefix of the holder hash,
// never the number or the name.
//
// RunReader supervises one window's reader: it opens the port, polls for
// cards, reports the reader's health as "window-<id>/reader", and after an
// error closes the port and opens it again within ReaderOpts.Reopen (1 s
// by default, never more than 2 s).
package identity
